// What every labeling widget shares: the control, normalised labels, change events, and an
// undo/redo history of its own value (the page also keeps one across widgets).

// Labels flattened in display order. A nested label's value is its path from the root
// ("animal/dog"), as the server expects; ``text`` is what it is called on screen.
export function normaliseLabels(labels) {
  const out = [];
  const walk = (list, depth, prefix) => {
    for (const raw of list || []) {
      const label = typeof raw === "object" ? raw : { value: String(raw) };
      const value = `${prefix}${label.value}`;
      out.push({ ...label, value, text: String(label.value), depth });
      walk(label.children, depth + 1, `${value}/`);
    }
  };
  walk(labels, 0, "");
  return out;
}

export const PALETTE = ["#e53935", "#1e88e5", "#43a047", "#fb8c00", "#8e24aa", "#00897b",
  "#6d4c41", "#d81b60", "#3949ab", "#7cb342"];

export function colourOf(label, index) {
  return label.color || PALETTE[index % PALETTE.length];
}

export class LabelingWidget extends HTMLElement {
  constructor() {
    super();
    this._control = null;
    this._past = [];
    this._future = [];
  }

  set control(control) {
    this._control = control;
    this.labels = normaliseLabels(control.labels);
    this.setAttribute("data-control", control.name);
    this.render();
  }

  get control() {
    return this._control;
  }

  // Subclasses call this after every user edit, with the value before the edit.
  changed(before) {
    this._past.push(before);
    this._future = [];
    this.dispatchEvent(new CustomEvent("accord-change", {
      bubbles: true, composed: true, detail: { control: this._control.name, value: this.value },
    }));
  }

  undo() {
    if (!this._past.length) return false;
    this._future.push(this.value);
    this.value = this._past.pop();
    this.dispatchEvent(new CustomEvent("accord-change", {
      bubbles: true, composed: true, detail: { control: this._control.name, value: this.value },
    }));
    return true;
  }

  redo() {
    if (!this._future.length) return false;
    this._past.push(this.value);
    this.value = this._future.pop();
    this.dispatchEvent(new CustomEvent("accord-change", {
      bubbles: true, composed: true, detail: { control: this._control.name, value: this.value },
    }));
    return true;
  }

  labelForHotkey(key) {
    return this.labels?.find((l) => l.hotkey && l.hotkey.toLowerCase() === key.toLowerCase());
  }

  // Shown under the widget when the server refuses the result.
  set error(message) {
    let box = this.querySelector(":scope > .widget-error");
    if (!message) {
      box?.remove();
      this.removeAttribute("aria-invalid");
      return;
    }
    if (!box) {
      box = document.createElement("p");
      box.className = "widget-error field-error";
      box.setAttribute("role", "alert");
      this.append(box);
    }
    box.textContent = message;
    this.setAttribute("aria-invalid", "true");
  }

  handleKey() {
    return false;
  }

  render() {}
}

export function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  node.append(...children);
  return node;
}
