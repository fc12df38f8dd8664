// The clinic's website chat. Embed it with one tag:
//   <script src="https://.../widget.js" data-server="https://chat.example-clinic.com" defer></script>
// It talks to the Rasa server's socket.io channel (channels/webchat.py).
// Every text from the server or the visitor is shown with textContent: no
// markup of theirs ever reaches the page.
// Each message the visitor sends has an id made here, which it keeps: a
// message no reply has come to is sent again, with its id, once the
// connection is back (a network change, a server restart, a reload), and
// the server takes a message it has stored once, answering it with the
// replies it gave then (rasa_patches/once.py). Each reply names the message it
// answers (`reply_to`).
import { io } from "socket.io-client";
import css from "./widget.css";
import * as store from "./store.js";

const TYPING_TIMEOUT_MS = 30000;

// The widget's own texts, in the page's language: the script tag's
// data-lang, else the page's <html lang>, else English.
const TEXTS = {
  en: {
    open: "Open the chat",
    close: "Close the chat",
    conversation: "Conversation",
    you: "You said:",
    assistant: "Assistant said:",
    suggestions: "Suggested replies",
    message: "Your message",
    placeholder: "Type your question…",
    send: "Send",
    typing: "The assistant is typing…",
    connecting: "Connecting…",
    offline: "Can't reach the assistant right now. Retrying…",
    noAnswer: "No answer yet. Please try again in a moment.",
    title: "Chat with us",
    subtitle: "Automated assistant",
  },
  es: {
    open: "Abrir el chat",
    close: "Cerrar el chat",
    conversation: "Conversación",
    you: "Usted dijo:",
    assistant: "El asistente dijo:",
    suggestions: "Respuestas sugeridas",
    message: "Su mensaje",
    placeholder: "Escriba su pregunta…",
    send: "Enviar",
    typing: "El asistente está escribiendo…",
    connecting: "Conectando…",
    offline: "No se puede conectar con el asistente ahora. Reintentando…",
    noAnswer: "Aún no hay respuesta. Por favor, inténtelo de nuevo en un momento.",
    title: "Chatee con nosotros",
    subtitle: "Asistente automático",
  },
};

function pageLanguage(data) {
  const lang = (data.lang || document.documentElement.lang || "en").slice(0, 2).toLowerCase();
  return lang in TEXTS ? lang : "en";
}


const ICONS = {
  chat: "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z",
  close: "M6 6l12 12M18 6L6 18",
  send: "M4 12l16-8-6 16-2.5-6.5z",
};

function readConfig(tag) {
  const data = (tag && tag.dataset) || {};
  const text = TEXTS[pageLanguage(data)];
  return {
    text,
    server: data.server || `${window.location.protocol}//${window.location.hostname}:5005`,
    title: data.title || text.title,
    subtitle: data.subtitle || text.subtitle,
    greeting: data.greeting || "",
    lang: pageLanguage(data),
  };
}

// A message's id: 128 random bits in hex (crypto.randomUUID needs an https page).
function newId() {
  const bytes = window.crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

function el(tag, attributes = {}, children = []) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "text") node.textContent = value;
    else if (name === "class") node.className = value;
    else node.setAttribute(name, value);
  }
  node.append(...children);
  return node;
}

function icon(path, filled = false) {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  const line = document.createElementNS("http://www.w3.org/2000/svg", "path");
  line.setAttribute("d", path);
  line.setAttribute("class", filled ? "filled" : "stroked");
  svg.append(line);
  return svg;
}

// Text with its web addresses as links; everything else as plain text.
function richText(text) {
  const nodes = [];
  for (const part of text.split(/(https?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)])/)) {
    if (/^https?:\/\//.test(part)) {
      nodes.push(el("a", { href: part, target: "_blank", rel: "noopener noreferrer", text: part }));
    } else if (part) {
      nodes.push(document.createTextNode(part));
    }
  }
  return nodes;
}

function buttonsOf(message) {
  const buttons = message.quick_replies || message.buttons || [];
  return Array.isArray(buttons)
    ? buttons.filter((button) => button && typeof button.title === "string"
      && typeof button.payload === "string").map(({ title, payload }) => ({ title, payload }))
    : [];
}

function createWidget(config) {
  const TEXT = config.text;
  const state = store.load();
  let socket = null;
  let confirmed = false;
  let typingTimer = null;
  const sent = new Set(); // the ids of the pending messages sent on this connection
  const received = new Map(); // reply_to -> the replies shown for it

  const host = el("div", { id: "clinic-chat" });
  const root = host.attachShadow({ mode: "open" });

  const log = el("div", { class: "log", role: "log", "aria-live": "polite",
    "aria-label": TEXT.conversation });
  const typing = el("div", { class: "bubble bot typing", "aria-hidden": "true", hidden: "" },
    [el("span"), el("span"), el("span")]);
  const scroller = el("div", { class: "messages" }, [log, typing]);
  const spoken = el("div", { class: "sr-only", role: "status" });
  const notice = el("p", { class: "notice", role: "status" });
  const input = el("textarea", { id: "clinic-chat-input", rows: "1", maxlength: "2000",
    placeholder: TEXT.placeholder, autocomplete: "off" });
  const sendButton = el("button", { type: "submit", class: "send", "aria-label": TEXT.send },
    [icon(ICONS.send, true)]);
  const form = el("form", { class: "composer" }, [
    el("label", { for: "clinic-chat-input", class: "sr-only", text: TEXT.message }),
    input, sendButton]);
  const closeButton = el("button", { type: "button", class: "close", "aria-label": TEXT.close },
    [icon(ICONS.close)]);
  const panel = el("section", { id: "clinic-chat-panel", class: "panel", role: "dialog",
    "aria-labelledby": "clinic-chat-title", hidden: "" }, [
    el("header", {}, [
      el("div", { class: "avatar", "aria-hidden": "true" }, [icon(ICONS.chat, true)]),
      el("div", { class: "heading" }, [
        el("h2", { id: "clinic-chat-title", text: config.title }),
        el("p", { text: config.subtitle }),
      ]),
      closeButton,
    ]),
    scroller, notice, form, spoken,
  ]);
  const launcher = el("button", { type: "button", class: "launcher", "aria-expanded": "false",
    "aria-controls": "clinic-chat-panel", "aria-label": `${TEXT.open}: ${config.title}` },
  [icon(ICONS.chat, true), icon(ICONS.close)]);
  root.append(el("style", { text: css }), panel, launcher);

  function scrollDown() {
    scroller.scrollTop = scroller.scrollHeight;
  }

  function suggestions(buttons) {
    return el("div", { class: "replies", role: "group", "aria-label": TEXT.suggestions },
      buttons.map(({ title, payload }) => {
        const button = el("button", { type: "button", class: "reply", text: title });
        button.addEventListener("click", () => send(payload, title));
        return button;
      }));
  }

  function render(message) {
    const who = message.from === "user" ? TEXT.you : TEXT.assistant;
    const item = el("div", { class: `message ${message.from}` });
    if (message.text) {
      item.append(el("div", { class: `bubble ${message.from}` },
        [el("span", { class: "sr-only", text: `${who} ` }), ...richText(message.text)]));
    }
    if (message.buttons && message.buttons.length) item.append(suggestions(message.buttons));
    log.append(item);
  }

  function add(message) {
    state.messages = [...state.messages, message].slice(-store.MAX_MESSAGES);
    store.save(state);
    render(message);
    while (log.children.length > store.MAX_MESSAGES + (config.greeting ? 1 : 0)) {
      log.children[config.greeting ? 1 : 0].remove();
    }
    scrollDown();
  }

  function setTyping(on) {
    clearTimeout(typingTimer);
    typing.hidden = !on;
    spoken.textContent = on ? TEXT.typing : "";
    if (on) {
      typingTimer = setTimeout(() => { setTyping(false); notice.textContent = TEXT.noAnswer; },
        TYPING_TIMEOUT_MS);
      scrollDown();
    }
  }

  // Each message no reply has come to, once on each connection.
  function flush() {
    if (!confirmed) return;
    for (const { id, message, lang } of state.pending) {
      if (!sent.has(id)) {
        sent.add(id);
        socket.emit("user_uttered", { message, session_id: state.sessionId,
          metadata: lang ? { message_id: id, lang } : { message_id: id } });
      }
    }
  }

  // False for a reply shown already: it comes twice when a message sent
  // again reaches the server before its first turn has ended.
  function firstTime(id, text, buttons) {
    const shown = received.get(id) || new Set();
    const key = JSON.stringify([text, buttons]);
    if (shown.has(key)) return false;
    received.set(id, shown.add(key));
    if (received.size > store.MAX_PENDING) received.delete(received.keys().next().value);
    return true;
  }

  function connect() {
    if (socket) return;
    notice.textContent = TEXT.connecting;
    socket = io(config.server, { reconnectionDelayMax: 10000 });
    socket.on("connect", () => {
      socket.emit("session_request", { session_id: state.sessionId });
    });
    socket.on("session_confirm", (data) => {
      const id = typeof data === "string" ? data : data && data.session_id;
      if (typeof id !== "string") return;
      state.sessionId = id;
      store.save(state);
      confirmed = true;
      notice.textContent = "";
      flush();
    });
    socket.on("disconnect", () => {
      confirmed = false;
      sent.clear();
    });
    socket.on("connect_error", () => { notice.textContent = TEXT.offline; });
    socket.on("bot_uttered", (message) => {
      if (!message || typeof message !== "object") return;
      const text = typeof message.text === "string" ? message.text : "";
      const buttons = buttonsOf(message);
      if (!text && !buttons.length) return;
      const answered = typeof message.reply_to === "string" ? message.reply_to : null;
      if (answered && !firstTime(answered, text, buttons)) return;
      // A reply that names no message (another server) answers them all.
      state.pending = answered ? state.pending.filter(({ id }) => id !== answered) : [];
      setTyping(false);
      notice.textContent = "";
      add({ from: "bot", text, buttons });
    });
  }

  function send(payload, shown) {
    // Suggestions answer the last message only: once the visitor speaks, they go.
    for (const message of state.messages) message.buttons = [];
    const hadFocus = root.activeElement && root.activeElement.classList.contains("reply");
    log.querySelectorAll(".replies").forEach((group) => group.remove());
    if (hadFocus) input.focus();
    // The page's language goes with the visitor's first message: the
    // assistant's first guess when the message does not tell ("vs laser?").
    const first = !state.messages.some((message) => message.from === "user");
    add({ from: "user", text: shown, buttons: [] });
    state.pending = [...state.pending, { id: newId(), message: payload, lang: first ? config.lang : null }]
      .slice(-store.MAX_PENDING);
    store.save(state);
    connect();
    flush();
    setTyping(true);
  }

  function open(focus = true) {
    panel.hidden = false;
    host.classList.add("open");
    launcher.setAttribute("aria-expanded", "true");
    launcher.setAttribute("aria-label", TEXT.close);
    state.open = true;
    store.save(state);
    connect();
    scrollDown();
    if (focus) input.focus();
  }

  function close() {
    panel.hidden = true;
    host.classList.remove("open");
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-label", `${TEXT.open}: ${config.title}`);
    state.open = false;
    store.save(state);
    launcher.focus();
  }

  launcher.addEventListener("click", () => (panel.hidden ? open() : close()));
  closeButton.addEventListener("click", close);
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      close();
    }
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  input.addEventListener("input", () => {
    input.style.height = "auto";
    input.style.height = `${Math.min(input.scrollHeight, 120)}px`;
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    input.style.height = "auto";
    send(text, text);
  });

  if (config.greeting) render({ from: "bot", text: config.greeting, buttons: [] });
  state.messages.forEach(render);
  document.body.append(host);
  if (state.open) open(false);
  if (state.pending.length) {
    connect();
    setTyping(true);
  }
}

const config = readConfig(document.currentScript);
if (document.body) createWidget(config);
else document.addEventListener("DOMContentLoaded", () => createWidget(config));
