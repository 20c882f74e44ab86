"""Operatives' photos from the landlord's system (issue 14): a photo put through the API is
the one the resident sees on the visit page, in the simulator and on Telegram; the same
photo again changes nothing; anything but a JPEG or PNG of at most 500 KB is refused
naming "photo"; null removes it; a name that is a path never finds a file."""

from __future__ import annotations

import base64
import os
import random
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api.world import Api, landlord_id
from fastapi.testclient import TestClient

from bot.app import create_app
from bot.common.clock import FixedClock
from bot.common.photos import PHOTOS_DIR, resolve_photo
from bot.integration.sync import RecordKind, upsert_batch
from bot.settings import load_settings
from nlu.builtin import BuiltinInterpreter
from simphone import Phone
from storage.db import Database
from storage.models import Operative
from storage.repositories import landlord_records

SAM = {
    "name": "Sam Carter",
    "employer": "Brightwater Plumbing Ltd",
    "badge_number": "55101",
    "trades": ["plumbing", "gas"],
}


def png(red: int, green: int = 80, blue: int = 160) -> bytes:
    """A real 2x2 PNG of one colour."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    rows = b"".join(b"\x00" + bytes((red, green, blue)) * 2 for _ in range(2))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@pytest.fixture
def photos_dir(tmp_path: Path) -> Path:
    return tmp_path / "photos"


@pytest.fixture
def client(
    demo_db: Database, clock: FixedClock, interpreter: BuiltinInterpreter, photos_dir: Path
) -> Iterator[TestClient]:
    """The real app on the demo data, keeping photos in this test's own folder."""
    settings = load_settings(
        database_url=demo_db.url,
        simulator=True,
        scheduler_in_process=False,
        photos_dir=photos_dir,
    )
    app = create_app(settings, clock=clock, interpreter=interpreter, rng=random.Random(7))
    with TestClient(app) as test_client:
        yield test_client


def stored_photo(db: Database, reference: str = "OP-55101") -> str | None:
    with db.session() as session:
        row = landlord_records.one(
            session, model=Operative, landlord_id=landlord_id(db, "demo"), reference=reference
        )
        assert row is not None
        return row.photo_path


def files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def test_a_photo_put_through_the_api_is_the_one_the_resident_sees(
    api: Api, phone: Phone, client: TestClient, demo_db: Database, photos_dir: Path
) -> None:
    photo = png(200)
    answer = api.put("/operatives/OP-55101", SAM | {"photo": b64(photo)})
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "updated"
    assert answer.json()["record"]["has_photo"] is True
    shown = api.get("/operatives/OP-55101").json()
    assert shown["has_photo"] is True and "photo" not in shown
    [name] = files(photos_dir)
    assert name.startswith("op-") and name.endswith(".png") and len(name) == len("op-.png") + 32

    # Margaret books; Sam Carter is coming.
    phone.say("book a repair visit")
    phone.say("yes")
    phone.inbox.clear()
    phone.say("1")
    first = phone.pop()
    assert "Sam Carter" in first["text"]
    # The simulator shows the landlord's photo ...
    simulated = client.get(first["photo_url"].split("127.0.0.1:8000", 1)[1])
    assert simulated.content == photo
    # ... and so does the visit page the text links to.
    link = next(w for w in first["text"].split() if "/v/" in w)
    path = link[link.index("/v/") :]
    page = client.get(path)
    assert f'<img src="{path}/photo"' in page.text
    image = client.get(path + "/photo")
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/png"
    assert image.content == photo
    # Telegram sends the file the one resolver finds.
    found = resolve_photo(stored_photo(demo_db), photos_dir)
    assert found is not None and found.read_bytes() == photo


def test_the_same_photo_again_is_unchanged_and_writes_nothing(
    api: Api, demo_db: Database, photos_dir: Path
) -> None:
    photo = b64(png(10))
    assert api.put("/operatives/OP-55101", SAM | {"photo": photo}).json()["status"] == "updated"
    [name] = files(photos_dir)
    os.utime(photos_dir / name, ns=(0, 0))

    again = api.put("/operatives/OP-55101", SAM | {"photo": photo})
    assert again.status_code == 200 and again.json()["status"] == "unchanged"
    # Another name, the same photo with a data: prefix: the record changes, the file not.
    renamed = SAM | {"name": "Samuel Carter", "photo": "data:image/png;base64," + photo}
    assert api.put("/operatives/OP-55101", renamed).json()["status"] == "updated"
    batch = {"records": [renamed | {"reference": "OP-55101", "active": False}]}
    assert api.put("/operatives", batch).json()["results"][0]["status"] == "updated"
    assert api.put("/operatives", batch).json()["results"][0]["status"] == "unchanged"
    assert files(photos_dir) == [name]
    assert (photos_dir / name).stat().st_mtime_ns == 0
    assert stored_photo(demo_db) == name


@pytest.mark.parametrize(
    "photo",
    [
        pytest.param(b64(b"GIF89a\x02\x00\x02\x00\x80\x00\x00" + b"\x00" * 40), id="gif"),
        pytest.param("this is not a photo!", id="garbage"),
        pytest.param(b64(os.urandom(300)), id="random-bytes"),
        pytest.param(b64(png(1) + b"\x00" * (600 * 1024)), id="600KB"),
        pytest.param(12345, id="number"),
    ],
)
def test_anything_but_a_small_jpeg_or_png_is_refused_naming_photo(
    api: Api, demo_db: Database, photos_dir: Path, photo: Any
) -> None:
    answer = api.put("/operatives/OP-55101", SAM | {"photo": photo})
    assert answer.status_code == 422, answer.text
    errors = answer.json()["errors"]
    assert [e["field"] for e in errors] == ["photo"]
    assert errors[0]["reason"] and "Value error" not in errors[0]["reason"]
    batch = api.put("/operatives", {"records": [SAM | {"reference": "OP-55101", "photo": photo}]})
    [result] = batch.json()["results"]
    assert result["status"] == "invalid" and [e["field"] for e in result["errors"]] == ["photo"]
    # Nothing changed: the demo photo is still Sam's and no file was written.
    assert stored_photo(demo_db) == "operative-1.png"
    assert files(photos_dir) == []


def test_the_reasons_say_what_is_wrong(api: Api) -> None:
    def reason(photo: str) -> str:
        answer = api.put("/operatives/OP-55101", SAM | {"photo": photo})
        return str(answer.json()["errors"][0]["reason"])

    assert reason(b64(b"GIF89a" + b"\x00" * 40)) == "not a JPEG or PNG image"
    assert reason(b64(png(1) + b"\x00" * (600 * 1024))) == "larger than 500 KB"
    assert "base64" in reason("not base64!")


def test_a_jpeg_is_taken_too(api: Api, photos_dir: Path) -> None:
    jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
    assert api.put("/operatives/OP-55102", SAM | {"badge_number": "55102", "photo": b64(jpeg)})
    [name] = files(photos_dir)
    assert name.endswith(".jpg") and (photos_dir / name).read_bytes() == jpeg


def test_null_removes_the_photo_and_leaving_it_out_keeps_it(
    api: Api, phone: Phone, client: TestClient, demo_db: Database, photos_dir: Path
) -> None:
    assert api.put("/operatives/OP-55101", SAM | {"photo": b64(png(30))}).status_code == 200
    kept = api.put("/operatives/OP-55101", SAM | {"name": "Sam J Carter"})
    assert kept.json()["record"]["has_photo"] is True
    assert resolve_photo(stored_photo(demo_db), photos_dir) is not None

    removed = api.put("/operatives/OP-55101", SAM | {"photo": None})
    assert removed.status_code == 200 and removed.json()["status"] == "updated"
    assert removed.json()["record"]["has_photo"] is False
    assert stored_photo(demo_db) is None
    # The visit page shows no photo, and no image is sent.
    phone.say("book a repair visit")
    phone.say("yes")
    phone.inbox.clear()
    phone.say("1")
    first = phone.pop()
    assert "Sam Carter" in first["text"] and first["photo_url"] is None
    link = next(w for w in first["text"].split() if "/v/" in w)
    path = link[link.index("/v/") :]
    assert "<img" not in client.get(path).text
    assert client.get(path + "/photo").status_code == 404


def test_a_new_operative_without_a_photo_has_none(api: Api) -> None:
    new = SAM | {"badge_number": "PP-1", "name": "Dave Price"}
    answer = api.put("/operatives/OP-NEW", new)
    assert answer.status_code == 201 and answer.json()["record"]["has_photo"] is False


def test_a_record_with_a_photo_is_invalid_where_photos_cannot_be_kept(
    demo_db: Database, clock: FixedClock
) -> None:
    """The CSV import passes no photos folder (and its header refuses a photo column)."""
    record = SAM | {"reference": "OP-55101", "photo": b64(png(5))}
    with demo_db.session() as session:
        [outcome] = upsert_batch(
            session,
            landlord_id=landlord_id(demo_db, "demo"),
            kind=RecordKind.OPERATIVES,
            records=[record],
            now=clock.now(),
        )
    assert outcome.status == "invalid" and outcome.errors[0].field == "photo"


def test_a_name_that_is_a_path_never_resolves(tmp_path: Path) -> None:
    photos_dir = tmp_path / "photos"
    photos_dir.mkdir()
    (tmp_path / "secret.png").write_bytes(png(9))
    (photos_dir / "op-good.png").write_bytes(png(9))
    (photos_dir / "sneaky.png").symlink_to(tmp_path / "secret.png")
    assert resolve_photo("op-good.png", photos_dir) == photos_dir / "op-good.png"
    assert resolve_photo("operative-1.png", photos_dir) == PHOTOS_DIR / "operative-1.png"
    for name in (
        "../secret.png",
        "photos/../secret.png",
        str(tmp_path / "secret.png"),
        "..",
        "sneaky.png",
        "op-good.png/",
        "op-good.gif",
        "../demo_photos/operative-1.png",
        "",
        None,
    ):
        assert resolve_photo(name, photos_dir) is None, name


def test_the_simulator_serves_no_file_by_a_path(client: TestClient, tmp_path: Path) -> None:
    (tmp_path / "secret.png").write_bytes(png(9))
    assert client.get("/simulator/photos/..%2Fsecret.png").status_code == 404
    assert client.get("/simulator/photos/operative-1.png").status_code == 200
