// Form-like controls: choices (single or multiple, with hierarchy), rating, number, free text.
import { LabelingWidget, colourOf, element } from "./widget-base.js";

let groupCounter = 0;

export class ChoicesWidget extends LabelingWidget {
  constructor() {
    super();
    this.selected = [];
    this.group = `choices-${++groupCounter}`;
  }

  get value() {
    if (this.control?.multiple) return [...this.selected];
    return this.selected.length ? this.selected[0] : null;
  }

  set value(value) {
    this.selected = value == null ? [] : Array.isArray(value) ? [...value] : [value];
    this.sync();
  }

  // A model's suggestion is marked on its options and pre-selected when nothing is chosen yet:
  // submitting it unchanged accepts the pre-label.
  set predictions(result) {
    this.suggested = result == null ? [] : Array.isArray(result) ? result : [result];
    if (!this.selected.length && this.suggested.length) {
      this.selected = this.control?.multiple ? [...this.suggested] : [this.suggested[0]];
    }
    this.sync();
  }

  render() {
    const multiple = this.control.multiple;
    const box = element("fieldset", { class: "choices" },
      element("legend", { text: this.control.description || this.control.name }));
    this.labels.forEach((label, i) => {
      const id = `${this.group}-${i}`;
      const key = label.hotkey || (i < 9 ? String(i + 1) : "");
      const input = element("input", {
        type: multiple ? "checkbox" : "radio", name: this.group, id, value: label.value,
        onchange: () => this.pick(label.value, input.checked),
      });
      box.append(element("label", {
        for: id, class: "choice", style: `--depth:${label.depth}; --swatch:${colourOf(label, i)}`,
        title: label.description || null,
      }, input, element("span", { class: "swatch" }), label.text,
      key ? element("kbd", { text: key }) : ""));
    });
    this.replaceChildren(box);
    this.sync();
  }

  pick(value, on = true) {
    const before = this.value;
    if (this.control.multiple) {
      this.selected = on
        ? [...new Set([...this.selected, value])]
        : this.selected.filter((v) => v !== value);
    } else {
      this.selected = on ? [value] : [];
    }
    this.sync();
    this.changed(before);
  }

  sync() {
    for (const input of this.querySelectorAll("input")) {
      input.checked = this.selected.includes(input.value);
      input.parentElement.classList.toggle("suggested", (this.suggested || []).includes(input.value));
    }
  }

  handleKey(event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return false;
    let label = this.labelForHotkey(event.key);
    if (!label && /^[1-9]$/.test(event.key) && !this.labels.some((l) => l.hotkey)) {
      label = this.labels[Number(event.key) - 1];
    }
    if (!label) return false;
    const on = this.control.multiple ? !this.selected.includes(label.value) : true;
    this.pick(label.value, on);
    return true;
  }
}

export class RatingWidget extends LabelingWidget {
  get value() {
    return this._value ?? null;
  }

  set value(value) {
    this._value = value ?? null;
    this.sync();
  }

  render() {
    const group = `rating-${++groupCounter}`;
    const box = element("fieldset", { class: "rating" },
      element("legend", { text: this.control.description || this.control.name }));
    for (let n = 1; n <= (this.control.max || 5); n++) {
      const input = element("input", {
        type: "radio", name: group, id: `${group}-${n}`, value: String(n),
        onchange: () => this.set(n),
      });
      box.append(element("label", { for: `${group}-${n}`, class: "star" }, input, String(n)));
    }
    this.replaceChildren(box);
    this.sync();
  }

  set(n) {
    const before = this.value;
    this._value = n;
    this.sync();
    this.changed(before);
  }

  sync() {
    for (const input of this.querySelectorAll("input")) {
      input.checked = Number(input.value) === this._value;
    }
  }

  handleKey(event) {
    if (event.ctrlKey || event.metaKey || event.altKey || !/^[1-9]$/.test(event.key)) return false;
    const n = Number(event.key);
    if (n > (this.control.max || 5)) return false;
    this.set(n);
    return true;
  }
}

class InputWidget extends LabelingWidget {
  get value() {
    return this.read();
  }

  set value(value) {
    if (this.input) this.input.value = value ?? "";
    this._pending = value;
  }

  render() {
    const id = `input-${++groupCounter}`;
    this.input = this.createInput(id);
    this.input.value = this._pending ?? "";
    let before = this.read();
    this.input.addEventListener("focus", () => { before = this.read(); });
    this.input.addEventListener("change", () => {
      this.changed(before);
      before = this.read();
    });
    this.replaceChildren(element("label", { for: id, class: "input-label",
      text: this.control.description || this.control.name }), this.input);
  }
}

export class NumberWidget extends InputWidget {
  createInput(id) {
    return element("input", {
      id, type: "number", min: this.control.min ?? null, max: this.control.max ?? null,
      step: this.control.integer ? "1" : "any",
    });
  }

  read() {
    const raw = this.input?.value ?? "";
    return raw === "" ? null : Number(raw);
  }
}

export class FreeTextWidget extends InputWidget {
  createInput(id) {
    return element("textarea", {
      id, rows: "3", maxlength: this.control.max_length ?? null,
    });
  }

  read() {
    const raw = this.input?.value ?? "";
    return raw === "" ? null : raw;
  }
}

customElements.define("accord-choices", ChoicesWidget);
customElements.define("accord-rating", RatingWidget);
customElements.define("accord-number", NumberWidget);
customElements.define("accord-free-text", FreeTextWidget);
