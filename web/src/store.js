// The conversation kept in the browser tab (sessionStorage): the session id
// the server issued, whether the chat is open, the last messages, so a
// reload shows the same conversation, and the visitor's messages no reply
// has come to yet, each with its id, so a reload sends them again. Rasa keeps
// the conversation itself but does not send it again. Closing the tab
// forgets it: health questions stay off a shared computer.

const KEY = "clinic-chat:v1";
export const MAX_MESSAGES = 60;
export const MAX_PENDING = 20;
const MAX_TEXT = 5000;
const MESSAGE_ID = /^[0-9a-f]{32}$/;
const LANGUAGES = ["en", "es"];

function storage() {
  try {
    return window.sessionStorage;
  } catch (error) {
    return null; // storage blocked: the chat works, without keeping anything
  }
}

function isButton(button) {
  return button && typeof button.title === "string" && typeof button.payload === "string";
}

function isMessage(message) {
  return message && (message.from === "bot" || message.from === "user")
    && typeof message.text === "string";
}

function isPending(message) {
  return message && typeof message.id === "string" && MESSAGE_ID.test(message.id)
    && typeof message.message === "string";
}

// The page's language goes with a visitor's first message only (widget.js).
function pendingMessage({ id, message, lang }) {
  return LANGUAGES.includes(lang) ? { id, message, lang } : { id, message };
}

export function load() {
  const empty = { sessionId: null, open: false, messages: [], pending: [] };
  try {
    const saved = JSON.parse(storage()?.getItem(KEY) || "null");
    if (!saved || typeof saved !== "object") return empty;
    return {
      sessionId: typeof saved.sessionId === "string" ? saved.sessionId : null,
      open: saved.open === true,
      messages: Array.isArray(saved.messages)
        ? saved.messages.filter(isMessage).map((message) => ({
          from: message.from,
          text: message.text,
          buttons: Array.isArray(message.buttons) ? message.buttons.filter(isButton) : [],
        })).slice(-MAX_MESSAGES)
        : [],
      pending: Array.isArray(saved.pending)
        ? saved.pending.filter(isPending).map(pendingMessage)
          .slice(-MAX_PENDING)
        : [],
    };
  } catch (error) {
    return empty;
  }
}

export function save(state) {
  const kept = {
    sessionId: state.sessionId,
    open: state.open,
    messages: state.messages.slice(-MAX_MESSAGES).map((message) => ({
      from: message.from,
      text: message.text.slice(0, MAX_TEXT),
      buttons: message.buttons || [],
    })),
    pending: state.pending.slice(-MAX_PENDING).map(({ id, message, lang }) => pendingMessage({
      id, message: message.slice(0, MAX_TEXT), lang,
    })),
  };
  try {
    storage()?.setItem(KEY, JSON.stringify(kept));
  } catch (error) {
    // full or blocked storage: the conversation goes on, unsaved
  }
}
