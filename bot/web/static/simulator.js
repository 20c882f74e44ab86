// Doorstep simulator page: vanilla JS over the /simulator/api JSON endpoints.
// All data goes into the page through textContent or attributes, never as HTML.
"use strict";

(() => {
  const API = "/simulator/api";
  const STORE_KEY = "doorstep.simulator.phone";
  const ZONE = "Europe/London";

  const $ = (id) => document.getElementById(id);

  const ui = {
    residentsStatus: $("residents-status"),
    residentList: $("resident-list"),
    otherForm: $("other-number"),
    otherPhone: $("other-phone"),
    otherError: $("other-error"),
    who: $("phone-who"),
    conversation: $("conversation"),
    compose: $("compose"),
    composeText: $("compose-text"),
    composeSend: $("compose-send"),
    composeError: $("compose-error"),
    clockNow: $("clock-now"),
    clockForm: $("clock-set"),
    clockInput: $("clock-input"),
    clockError: $("clock-error"),
    outboxStatus: $("outbox-status"),
    outboxList: $("outbox-list"),
    outboxRefresh: $("outbox-refresh"),
  };

  const state = {
    phone: null,
    residents: [],
    sending: false,
    clockOffsetMs: 0,
    clockKnown: false,
  };

  // ---------------------------------------------------------------- helpers

  /** Build an element; `props` sets properties (className, textContent, ...), never innerHTML. */
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    if (props) {
      for (const [key, value] of Object.entries(props)) {
        if (value === undefined || value === null) continue;
        if (key === "dataset") Object.assign(node.dataset, value);
        else if (key.startsWith("aria-") || key === "role") node.setAttribute(key, String(value));
        else node[key] = value;
      }
    }
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function showError(node, message) {
    node.textContent = message;
    node.hidden = false;
  }

  function clearError(node) {
    node.textContent = "";
    node.hidden = true;
  }

  class ApiError extends Error {}

  function describeError(status, data) {
    const detail = data && data.detail;
    if (typeof detail === "string" && detail) return detail;
    if (Array.isArray(detail) && detail.length) {
      return detail.map((d) => (d && typeof d.msg === "string" ? d.msg : "invalid value")).join("; ");
    }
    if (status >= 500) return `the service had a problem (error ${status}); please try again`;
    return `the request was not accepted (error ${status})`;
  }

  async function api(path, options = {}) {
    const init = { ...options, headers: { Accept: "application/json" } };
    if (options.json !== undefined) {
      init.method = init.method || "POST";
      init.body = JSON.stringify(options.json);
      init.headers["Content-Type"] = "application/json";
      delete init.json;
    }
    let response;
    try {
      response = await fetch(API + path, init);
    } catch (_err) {
      throw new ApiError("could not reach the service; is it still running?");
    }
    let data = null;
    try {
      data = await response.json();
    } catch (_err) {
      data = null;
    }
    if (!response.ok) throw new ApiError(describeError(response.status, data));
    return data;
  }

  function newMessageId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return `web-${window.crypto.randomUUID()}`;
    }
    return `web-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  }

  /** +447400123456 -> 07400 123456 (other numbers are shown as given). */
  function displayPhone(phone) {
    if (typeof phone === "string" && /^\+44\d{10}$/.test(phone)) {
      return `0${phone.slice(3, 7)} ${phone.slice(7)}`;
    }
    return phone || "";
  }

  function formatter(options) {
    try {
      return new Intl.DateTimeFormat("en-GB", { timeZone: ZONE, ...options });
    } catch (_err) {
      return new Intl.DateTimeFormat("en-GB", options);
    }
  }

  const fmtClock = formatter({
    weekday: "short", day: "numeric", month: "short", year: "numeric",
    hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  });
  const fmtStamp = formatter({
    weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit",
    hourCycle: "h23",
  });
  const fmtParts = formatter({
    year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
  });

  function parseDate(iso) {
    if (!iso) return null;
    const date = new Date(iso);
    return Number.isNaN(date.getTime()) ? null : date;
  }

  function stamp(iso) {
    const date = parseDate(iso);
    return date ? fmtStamp.format(date) : "";
  }

  function timeEl(iso, formatted) {
    return el("time", { dateTime: iso || "", textContent: formatted });
  }

  /** UK wall-clock fields of an instant. */
  function londonParts(date) {
    const parts = {};
    for (const part of fmtParts.formatToParts(date)) parts[part.type] = part.value;
    return {
      year: Number(parts.year), month: Number(parts.month), day: Number(parts.day),
      hour: Number(parts.hour) % 24, minute: Number(parts.minute), second: Number(parts.second),
    };
  }

  /** "2026-12-01T09:00" read as UK time -> Date (handles GMT/BST). */
  function londonLocalToDate(value) {
    const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(value || "");
    if (!m) return null;
    const wanted = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]);
    let guess = wanted;
    for (let i = 0; i < 3; i += 1) {
      const p = londonParts(new Date(guess));
      const wall = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute);
      guess += wanted - wall;
    }
    return new Date(guess);
  }

  function dateToLondonLocal(date) {
    const p = londonParts(date);
    const pad = (n) => String(n).padStart(2, "0");
    return `${p.year}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}`;
  }

  // -------------------------------------------------------------- residents

  function residentCard(resident) {
    const jobs = Array.isArray(resident.open_jobs) ? resident.open_jobs : [];
    const badges = [];
    if (resident.telegram_linked) badges.push(el("span", { className: "badge" }, "Telegram linked"));
    if (resident.sms_opted_out) {
      badges.push(el("span", { className: "badge badge-warn" }, "SMS opted out"));
    }
    const jobLines = jobs.length
      ? jobs.map((job) => el("span", { className: "resident-job" },
        `${job.reference}: ${job.description}`))
      : [el("span", { className: "resident-job" }, "No open repairs")];
    const button = el(
      "button",
      {
        type: "button",
        className: "resident-card",
        "aria-pressed": "false",
        dataset: { phone: resident.phone || "" },
      },
      el("span", { className: "resident-name" }, resident.name),
      el("span", { className: "resident-phone" }, displayPhone(resident.phone)),
      el("span", { className: "resident-jobs" },
        el("span", { className: "visually-hidden" }, "Open repairs: "), ...jobLines),
      badges.length ? el("span", null, ...badges) : null,
    );
    if (!resident.phone) {
      button.disabled = true;
      button.title = "This resident has no mobile number";
    }
    button.addEventListener("click", () => pickPhone(resident.phone));
    return el("li", null, button);
  }

  async function loadResidents() {
    try {
      const residents = await api("/residents");
      state.residents = Array.isArray(residents) ? residents : [];
    } catch (err) {
      ui.residentsStatus.textContent = `Could not load residents: ${err.message}.`;
      return;
    }
    ui.residentList.replaceChildren(...state.residents.map(residentCard));
    ui.residentsStatus.textContent = state.residents.length
      ? `${state.residents.length} demo residents. Pick one to text as them.`
      : "No residents yet. Load the demo data (doorstep demo load) and reload this page.";
    markPicked();
  }

  function markPicked() {
    for (const button of ui.residentList.querySelectorAll(".resident-card")) {
      button.setAttribute("aria-pressed", String(button.dataset.phone === state.phone));
    }
  }

  function residentFor(phone) {
    return state.residents.find((r) => r.phone === phone) || null;
  }

  // ----------------------------------------------------------- conversation

  function setComposeEnabled(enabled) {
    ui.composeText.disabled = !enabled;
    ui.composeSend.disabled = !enabled;
    ui.composeText.placeholder = state.phone ? "Text message" : "Pick a resident first";
  }

  function scrollToEnd() {
    ui.conversation.scrollTop = ui.conversation.scrollHeight;
  }

  function showEmptyConversation() {
    ui.conversation.replaceChildren(
      el("li", { className: "conversation-empty" },
        "No messages yet. Say hello, or ask to book a repair visit."),
    );
  }

  /** Only the newest service message's options can be tapped, like a real chat. */
  function refreshOptionStates() {
    const messages = ui.conversation.querySelectorAll(".msg");
    const last = messages.length ? messages[messages.length - 1] : null;
    for (const button of ui.conversation.querySelectorAll(".option-button")) {
      const live = !state.sending && last !== null && last.contains(button);
      button.disabled = !live;
    }
  }

  function messageItem(message) {
    const inbound = message.direction === "in";
    const item = el("li", { className: `msg ${inbound ? "msg-in" : "msg-out"}` });
    if (message.pending) item.classList.add("msg-pending");
    const who = inbound ? "You" : "Repairs service";
    item.append(
      el("p", { className: "bubble" },
        el("span", { className: "visually-hidden" }, `${who}: `),
        message.text || ""),
    );
    if (message.photo_url) {
      item.append(el("img", {
        className: "msg-photo",
        src: message.photo_url,
        alt: "Photo sent by the repairs service",
        loading: "lazy",
        width: 200,
        height: 200,
      }));
    }
    const options = Array.isArray(message.options) ? message.options : [];
    if (!inbound && options.length) {
      const group = el("div", { className: "options", role: "group", "aria-label": "Reply options" });
      for (const option of options) {
        if (!option || option.key === undefined) continue;
        const key = String(option.key);
        const label = option.label ? String(option.label) : key;
        const button = el("button", { type: "button", className: "option-button" },
          el("span", { className: "option-key", "aria-hidden": "true" }, key),
          label);
        button.addEventListener("click", () => send(label, key));
        group.append(button);
      }
      item.append(group);
    }
    const when = message.at ? stamp(message.at) : "";
    item.append(el("span", { className: "msg-meta" },
      inbound ? "You" : "Repairs service",
      when ? " · " : "",
      when ? timeEl(message.at, when) : ""));
    return item;
  }

  function appendMessage(message) {
    const empty = ui.conversation.querySelector(".conversation-empty");
    if (empty) empty.remove();
    const item = messageItem(message);
    ui.conversation.append(item);
    refreshOptionStates();
    scrollToEnd();
    return item;
  }

  async function loadTranscript(phone) {
    const messages = await api(`/transcript?phone=${encodeURIComponent(phone)}`);
    return Array.isArray(messages) ? messages : [];
  }

  function renderTranscript(messages) {
    ui.conversation.setAttribute("aria-busy", "true");
    if (messages.length) ui.conversation.replaceChildren(...messages.map(messageItem));
    else showEmptyConversation();
    refreshOptionStates();
    ui.conversation.setAttribute("aria-busy", "false");
    scrollToEnd();
  }

  async function pickPhone(phone, { fromStore = false } = {}) {
    if (!phone) return false;
    clearError(ui.composeError);
    let messages;
    try {
      messages = await loadTranscript(phone);
    } catch (err) {
      if (fromStore) {
        window.localStorage.removeItem(STORE_KEY);
        return false;
      }
      throw err;
    }
    state.phone = phone;
    try {
      window.localStorage.setItem(STORE_KEY, phone);
    } catch (_err) {
      // Private mode: the page still works, it just forgets the resident on reload.
    }
    const resident = residentFor(phone);
    ui.who.textContent = resident
      ? `Texting as ${resident.name} (${displayPhone(phone)})`
      : `Texting from ${displayPhone(phone)} (not a known resident)`;
    markPicked();
    renderTranscript(messages);
    setComposeEnabled(true);
    loadOutbox();
    return true;
  }

  async function send(text, optionKey) {
    if (!state.phone || state.sending) return;
    const phone = state.phone;
    const trimmed = (text || "").trim();
    if (!trimmed && !optionKey) {
      showError(ui.composeError, "Type a message first.");
      ui.composeText.focus();
      return;
    }
    clearError(ui.composeError);
    const typed = optionKey ? null : ui.composeText.value;
    if (!optionKey) ui.composeText.value = "";
    state.sending = true;
    setComposeEnabled(false);
    const pending = appendMessage({ direction: "in", text: trimmed, pending: true });
    try {
      const data = await api("/messages", {
        json: { phone, text: trimmed, option_key: optionKey || null, message_id: newMessageId() },
      });
      if (state.phone !== phone) return; // switched resident meanwhile; the transcript has it
      pending.classList.remove("msg-pending");
      const meta = pending.querySelector(".msg-meta");
      if (meta) meta.textContent = "You · sent";
      for (const reply of (data && data.replies) || []) {
        appendMessage({
          direction: "out",
          text: reply.text,
          options: reply.options,
          photo_url: reply.photo_url,
        });
      }
    } catch (err) {
      pending.remove();
      if (!ui.conversation.querySelector(".msg")) showEmptyConversation();
      if (typed !== null && !ui.composeText.value) ui.composeText.value = typed;
      showError(ui.composeError, `Not sent: ${err.message}.`);
    } finally {
      state.sending = false;
      setComposeEnabled(Boolean(state.phone));
      refreshOptionStates();
      if (!optionKey) ui.composeText.focus();
    }
    loadOutbox();
  }

  // ----------------------------------------------------------------- clock

  function renderClock() {
    if (!state.clockKnown) return;
    const now = new Date(Date.now() + state.clockOffsetMs);
    ui.clockNow.dateTime = now.toISOString();
    ui.clockNow.textContent = fmtClock.format(now);
  }

  function applyClock(data) {
    const now = parseDate(data && data.now);
    if (!now) throw new ApiError("the service sent a time this page cannot read");
    state.clockOffsetMs = now.getTime() - Date.now();
    state.clockKnown = true;
    renderClock();
    if (document.activeElement !== ui.clockInput) ui.clockInput.value = dateToLondonLocal(now);
  }

  async function loadClock() {
    try {
      applyClock(await api("/clock"));
      clearError(ui.clockError);
    } catch (err) {
      showError(ui.clockError, `Could not read the clock: ${err.message}.`);
    }
  }

  async function moveClock(body) {
    clearError(ui.clockError);
    try {
      applyClock(await api("/clock", { json: body }));
    } catch (err) {
      showError(ui.clockError, `The clock did not move: ${err.message}.`);
      return;
    }
    loadOutbox();
  }

  // ---------------------------------------------------------------- outbox

  function outboxItem(row) {
    const status = String(row.status || "");
    const title = el("div", { className: "outbox-title" },
      el("span", null, String(row.kind || "message")),
      el("span", { className: `badge status-${status.replace(/[^a-z_-]/gi, "")}` }, status));
    const times = el("ul", { className: "outbox-times" },
      el("li", null, "Not before ", timeEl(row.not_before, stamp(row.not_before))),
      row.expires_at ? el("li", null, "Expires ", timeEl(row.expires_at, stamp(row.expires_at)))
        : null);
    const decisions = Array.isArray(row.decisions) ? row.decisions : [];
    const decisionList = decisions.length
      ? el("ol", { className: "outbox-decisions", "aria-label": "Contact policy decisions" },
        ...decisions.map((d) => el("li", null,
          timeEl(d.at, stamp(d.at)), ` ${d.decision}`,
          d.reason ? ` (${d.reason})` : "",
          d.detail ? `: ${d.detail}` : "")))
      : null;
    return el("li", { className: "outbox-item" },
      title,
      row.purpose ? el("p", { className: "hint" }, `Purpose: ${row.purpose}`) : null,
      el("p", { className: "outbox-text" }, row.text || ""),
      times,
      decisionList);
  }

  let outboxSeq = 0;

  async function loadOutbox() {
    const phone = state.phone;
    if (!phone) return;
    const seq = ++outboxSeq;
    ui.outboxStatus.textContent = "Loading…";
    let rows;
    try {
      rows = await api(`/outbox?phone=${encodeURIComponent(phone)}`);
    } catch (err) {
      if (seq === outboxSeq) ui.outboxStatus.textContent = `Could not load the outbox: ${err.message}.`;
      return;
    }
    if (seq !== outboxSeq || phone !== state.phone) return;
    rows = Array.isArray(rows) ? rows : [];
    ui.outboxList.replaceChildren(...rows.map(outboxItem));
    ui.outboxStatus.textContent = rows.length
      ? `${rows.length} message${rows.length === 1 ? "" : "s"} for ${displayPhone(phone)}.`
      : `Nothing in the outbox for ${displayPhone(phone)}.`;
  }

  // ---------------------------------------------------------------- wiring

  ui.compose.addEventListener("submit", (event) => {
    event.preventDefault();
    send(ui.composeText.value, null);
  });

  ui.composeText.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      ui.compose.requestSubmit();
    }
  });

  ui.composeText.addEventListener("input", () => clearError(ui.composeError));

  ui.otherForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError(ui.otherError);
    const phone = ui.otherPhone.value.trim();
    if (!phone) {
      showError(ui.otherError, "Type a mobile number first.");
      ui.otherPhone.focus();
      return;
    }
    try {
      // The service answers with the number in its own form (+44...); use that.
      await pickPhone(phone);
    } catch (err) {
      showError(ui.otherError, `That number cannot be used: ${err.message}.`);
    }
  });

  for (const button of document.querySelectorAll("[data-advance-minutes]")) {
    button.addEventListener("click", () => {
      moveClock({ advance_minutes: Number(button.dataset.advanceMinutes) });
    });
  }

  ui.clockForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const moment = londonLocalToDate(ui.clockInput.value);
    if (!moment) {
      showError(ui.clockError, "Choose a date and time first.");
      ui.clockInput.focus();
      return;
    }
    moveClock({ set: moment.toISOString() });
  });

  ui.outboxRefresh.addEventListener("click", () => {
    if (state.phone) loadOutbox();
  });

  async function start() {
    setComposeEnabled(false);
    await Promise.all([loadResidents(), loadClock()]);
    window.setInterval(renderClock, 15000);
    let stored = null;
    try {
      stored = window.localStorage.getItem(STORE_KEY);
    } catch (_err) {
      stored = null;
    }
    if (stored) await pickPhone(stored, { fromStore: true });
  }

  start();
})();
