"""Draw the demo operatives' "photos": flat illustrations, not pictures of anyone real.

Each is a head-and-shoulders figure in a hi-vis jacket with an ID badge carrying the
operative's initials, on a coloured background, 320x320 PNG, well under 40 KB.

Needs Pillow, which the service itself does not use, so run it from a throwaway venv:

    python3 -m venv /tmp/pil && /tmp/pil/bin/pip install Pillow
    /tmp/pil/bin/python scripts/make_demo_photos.py            # writes bot/cli/demo_photos/
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont  # type: ignore[import-not-found, unused-ignore]

SIZE = 320
SCALE = 4  # draw large and shrink, for smooth edges
OUT_DIR = Path(__file__).resolve().parent.parent / "bot" / "demo_photos"
FONT_PATHS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
)

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Figure:
    initials: str
    background: RGB
    skin: RGB
    hair: RGB
    hair_style: str  # "short", "long", "bald", "curly", "bun"
    jacket: RGB


# Same order as bot.cli.demo._OPERATIVES: Sam Carter, Ravi Patel, Jo Williams, Dan Evans,
# Lena Kowalska.
FIGURES = (
    Figure("SC", (78, 154, 166), (241, 194, 160), (92, 62, 40), "short", (245, 214, 20)),
    Figure("RP", (120, 104, 176), (176, 122, 82), (30, 26, 24), "curly", (255, 140, 26)),
    Figure("JW", (64, 120, 196), (224, 172, 135), (200, 150, 60), "long", (245, 214, 20)),
    Figure("DE", (214, 112, 96), (122, 80, 56), (25, 22, 20), "bald", (200, 228, 40)),
    Figure("LK", (70, 150, 100), (246, 208, 180), (150, 60, 40), "bun", (255, 140, 26)),
)

REFLECTIVE = (205, 210, 215)
REFLECTIVE_EDGE = (160, 166, 172)
INK = (35, 38, 44)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in FONT_PATHS:
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default()


def _darker(colour: RGB, factor: float = 0.8) -> RGB:
    r, g, b = colour
    return (int(r * factor), int(g * factor), int(b * factor))


def draw(figure: Figure) -> Image.Image:
    s = SCALE
    big = SIZE * s
    image = Image.new("RGB", (big, big), figure.background)
    d = ImageDraw.Draw(image)

    def box(x0: float, y0: float, x1: float, y1: float) -> tuple[int, int, int, int]:
        return (int(x0 * s), int(y0 * s), int(x1 * s), int(y1 * s))

    # A soft lighter disc behind the figure.
    d.ellipse(box(30, 30, 290, 290), fill=tuple(min(255, c + 22) for c in figure.background))

    # Long hair falls behind the shoulders, so draw it first.
    if figure.hair_style == "long":
        d.rounded_rectangle(box(104, 92, 216, 218), radius=40 * s, fill=figure.hair)

    # Shoulders and jacket.
    d.rounded_rectangle(box(52, 226, 268, 380), radius=70 * s, fill=figure.jacket)
    # Neck and collar.
    d.rectangle(box(140, 178, 180, 236), fill=_darker(figure.skin, 0.9))
    d.polygon(
        [box(128, 222, 160, 262)[:2], box(160, 262, 0, 0)[:2], box(192, 222, 0, 0)[:2]],
        fill=_darker(figure.jacket, 0.85),
    )
    d.polygon(
        [box(140, 226, 0, 0)[:2], box(160, 252, 0, 0)[:2], box(180, 226, 0, 0)[:2]],
        fill=_darker(figure.skin, 0.9),
    )
    # Reflective strips: two braces and a band.
    for x in (96, 204):
        d.rectangle(box(x, 232, x + 20, 330), fill=REFLECTIVE, outline=REFLECTIVE_EDGE, width=s)
    d.rectangle(box(54, 292, 266, 310), fill=REFLECTIVE, outline=REFLECTIVE_EDGE, width=s)
    # Zip.
    d.line(box(160, 262, 160, 330), fill=_darker(figure.jacket, 0.7), width=3 * s)

    # ID badge with the initials, clipped to the jacket's left chest.
    d.rounded_rectangle(
        box(178, 246, 240, 286), radius=6 * s, fill=(255, 255, 255), outline=INK, width=2 * s
    )
    font = _font(22 * s)
    d.text(box(209, 267, 0, 0)[:2], figure.initials, fill=INK, font=font, anchor="mm")

    # Head.
    d.ellipse(box(112, 84, 208, 196), fill=figure.skin)
    # Ears.
    for x in (106, 200):
        d.ellipse(box(x, 132, x + 14, 156), fill=_darker(figure.skin, 0.93))

    # Hair on top.
    if figure.hair_style == "short":
        d.chord(box(110, 78, 210, 150), start=180, end=360, fill=figure.hair)
        d.rectangle(box(112, 112, 124, 130), fill=figure.hair)
        d.rectangle(box(196, 112, 208, 130), fill=figure.hair)
    elif figure.hair_style == "curly":
        for cx, cy in (
            (124, 104),
            (142, 88),
            (160, 82),
            (178, 88),
            (196, 104),
            (132, 94),
            (188, 94),
            (116, 120),
            (204, 120),
        ):
            d.ellipse(box(cx - 16, cy - 16, cx + 16, cy + 16), fill=figure.hair)
    elif figure.hair_style == "long":
        d.chord(box(108, 76, 212, 156), start=180, end=360, fill=figure.hair)
        d.pieslice(box(100, 80, 180, 160), start=180, end=270, fill=figure.hair)
    elif figure.hair_style == "bun":
        d.ellipse(box(140, 56, 180, 92), fill=figure.hair)
        d.chord(box(110, 78, 210, 152), start=180, end=360, fill=figure.hair)
    elif figure.hair_style == "bald":
        d.chord(box(112, 84, 208, 150), start=200, end=340, fill=_darker(figure.skin, 0.92))

    # Face: eyes, brows and a smile.
    for x in (140, 180):
        d.ellipse(box(x - 5, 136, x + 5, 146), fill=INK)
    for x in (140, 180):
        d.line(box(x - 9, 126, x + 9, 124), fill=_darker(figure.hair, 0.9), width=3 * s)
    d.arc(box(142, 148, 178, 176), start=20, end=160, fill=INK, width=3 * s)

    small = image.resize((SIZE, SIZE), Image.Resampling.LANCZOS)
    # A small palette keeps the file tiny; flat art loses nothing visible.
    return small.quantize(colors=96, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    for number, figure in enumerate(FIGURES, start=1):
        path = out / f"operative-{number}.png"
        draw(figure).save(path, optimize=True)
        print(f"{path} {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
