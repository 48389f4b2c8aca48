// Named-entity spans over a text, by mouse selection or by keyboard, with relations between
// spans when the schema has a relations control for them. Renders only span boundaries, so a
// 50,000-character document stays a handful of DOM nodes.
import { LabelingWidget, colourOf, element } from "./widget-base.js";
import { TextOffsets, snapToWords, tokenize } from "./text-offsets.js";

let spanCounter = 0;
const newId = () => `s${Date.now().toString(36)}${(++spanCounter).toString(36)}`;

export class TextSpansWidget extends LabelingWidget {
  constructor() {
    super();
    this.spans = []; // {id, label, start, end} in UTF-16 units
    this.relations = []; // {id, label, from, to}
    this.relationControl = null;
    this.active = 0;
    this.activeRelation = 0;
    this.selectedId = null;
    this.linking = false;
    this.cursor = null; // [firstToken, lastToken] of the keyboard selection
    this._text = "";
    this.offsets = new TextOffsets("");
  }

  set text(text) {
    this._text = text ?? "";
    this.offsets = new TextOffsets(this._text);
    this.tokens = null;
    this.render();
  }

  get text() {
    return this._text;
  }

  // The relations control bound to these spans, if any; its value travels with ours.
  set relationsControl(control) {
    this.relationControl = control;
    this.relationLabels = control ? control.labels.map((l) => (typeof l === "object" ? l : { value: String(l) })) : [];
    this.render();
  }

  // Pre-labels the annotator has not accepted are suggestions, not part of the result.
  get value() {
    return this.spans.filter((s) => !s.prelabel).map((s) => ({
      id: s.id,
      label: s.label,
      start: this.offsets.toPoints(s.start),
      end: this.offsets.toPoints(s.end),
      text: this._text.slice(s.start, s.end),
    }));
  }

  set value(value) {
    this.spans = (value || []).map((s) => ({
      id: String(s.id ?? newId()), label: s.label,
      start: this.offsets.toUnits(s.start), end: this.offsets.toUnits(s.end),
      prelabel: Boolean(s.prelabel),
    }));
    this.paint();
  }

  get relationsValue() {
    return this.relations.map(({ id, label, from, to }) => ({ id, label, from, to }));
  }

  set relationsValue(value) {
    this.relations = (value || []).map((r) => ({ ...r, id: String(r.id ?? newId()) }));
    this.paintRelations();
  }

  // Pre-labels: shown dashed, in the value only once the annotator accepts them (Enter on the
  // selected pre-label, or double-click).
  set predictions(result) {
    if (!Array.isArray(result)) return;
    const existing = new Set(this.spans.map((s) => `${s.start}:${s.end}:${s.label}`));
    for (const s of result) {
      const start = this.offsets.toUnits(s.start);
      const end = this.offsets.toUnits(s.end);
      if (!existing.has(`${start}:${end}:${s.label}`)) {
        this.spans.push({ id: newId(), label: s.label, start, end, prelabel: true });
      }
    }
    this.paint();
  }

  // The state undo/redo restores: spans and relations together.
  snapshot() {
    return { spans: this.spans.map((s) => ({ ...s })), relations: this.relations.map((r) => ({ ...r })) };
  }

  restore(state) {
    this.spans = state.spans.map((s) => ({ ...s }));
    this.relations = state.relations.map((r) => ({ ...r }));
    this.paint();
  }

  undo() {
    if (!this._past.length) return false;
    this._future.push(this.snapshot());
    this.restore(this._past.pop());
    this.emit();
    return true;
  }

  redo() {
    if (!this._future.length) return false;
    this._past.push(this.snapshot());
    this.restore(this._future.pop());
    this.emit();
    return true;
  }

  edit(change) {
    const before = this.snapshot();
    change();
    this._past.push(before);
    this._future = [];
    this.paint();
    this.emit();
  }

  emit() {
    this.dispatchEvent(new CustomEvent("accord-change", {
      bubbles: true, composed: true, detail: { control: this.control.name, value: this.value },
    }));
  }

  render() {
    if (!this.control) return;
    const picker = element("div", { class: "label-picker", role: "toolbar", "aria-label": "Entity labels" });
    this.labels.forEach((label, i) => {
      picker.append(element("button", {
        type: "button", class: "label-button", "data-index": String(i),
        style: `--swatch:${colourOf(label, i)}`, "aria-pressed": String(i === this.active),
        onclick: () => { this.active = i; this.paintPicker(); this.applyKeyboardSelection(); },
      }, element("span", { class: "swatch" }), label.text,
      label.hotkey ? element("kbd", { text: label.hotkey }) : ""));
    });
    this.textBox = element("div", {
      class: "span-text", tabindex: "0", role: "document",
      "aria-label": `Text to label with ${this.control.name}. Select words with the mouse, or move with arrow keys, extend with Shift+arrows, and press a label key.`,
    });
    // A double-click is for accepting a pre-label, not for selecting a word.
    this.textBox.addEventListener("mouseup", (e) => { if (e.detail < 2) this.fromMouseSelection(); });
    this.textBox.addEventListener("click", (e) => this.clickSpan(e));
    this.textBox.addEventListener("dblclick", (e) => this.acceptPrelabel(e));
    const parts = [picker, this.textBox];
    if (this.relationControl) {
      this.relationPicker = element("div", { class: "label-picker", role: "toolbar", "aria-label": "Relation labels" });
      this.relationList = element("ul", { class: "relation-list", "aria-label": "Relations" });
      parts.push(element("div", { class: "relations" },
        element("p", { class: "muted", text: "Relations: select a span, press R (or the Link button), then click the span it points to." }),
        this.relationPicker,
        element("button", { type: "button", class: "link-button", onclick: () => this.startLink() }, "Link selected span"),
        this.relationList));
    }
    this.spanList = element("ul", { class: "span-list", "aria-label": "Spans" });
    parts.push(this.spanList);
    this.replaceChildren(...parts);
    this.paint();
  }

  paintPicker() {
    for (const button of this.querySelectorAll(".label-picker:first-child .label-button")) {
      button.setAttribute("aria-pressed", String(Number(button.dataset.index) === this.active));
    }
    if (this.relationPicker) {
      this.relationPicker.replaceChildren(...this.relationLabels.map((label, i) => element("button", {
        type: "button", class: "label-button", "aria-pressed": String(i === this.activeRelation),
        onclick: () => { this.activeRelation = i; this.paintPicker(); },
      }, label.value)));
    }
  }

  paint() {
    if (!this.textBox) return;
    const text = this._text;
    const points = new Set([0, text.length]);
    for (const s of this.spans) { points.add(s.start); points.add(s.end); }
    const cuts = [...points].sort((a, b) => a - b);
    const nodes = [];
    this.segments = [];
    for (let i = 0; i + 1 < cuts.length; i++) {
      const [a, b] = [cuts[i], cuts[i + 1]];
      const covering = this.spans.filter((s) => s.start <= a && s.end >= b);
      let node;
      if (!covering.length) {
        node = document.createTextNode(text.slice(a, b));
      } else {
        const top = covering[covering.length - 1];
        const index = this.labels.findIndex((l) => l.value === top.label);
        node = element("mark", {
          "data-ids": covering.map((s) => s.id).join(" "),
          "data-label": top.label,
          class: [covering.some((s) => s.id === this.selectedId) ? "selected" : "",
            top.prelabel ? "prelabel" : "", covering.length > 1 ? "nested" : ""].join(" ").trim(),
          style: `--swatch:${colourOf(this.labels[index] || {}, Math.max(index, 0))}`,
          title: covering.map((s) => `${s.label}${s.prelabel ? " (model pre-label)" : ""}`).join(", "),
        }, text.slice(a, b));
        if (covering.some((s) => s.end === b)) node.classList.add("span-end");
      }
      this.segments.push([a, node.nodeType === Node.TEXT_NODE ? node : node.firstChild]);
      nodes.push(node);
    }
    this.textBox.replaceChildren(...nodes);
    this.paintPicker();
    this.paintList();
    this.paintRelations();
    this.paintCursor();
  }

  paintList() {
    if (!this.spanList) return;
    this.spanList.replaceChildren(...this.spans.map((s) => element("li", {
      class: s.id === this.selectedId ? "selected" : "",
    }, element("span", { class: "badge", text: s.label }), " ",
    element("q", { text: this._text.slice(s.start, s.end) }),
    s.prelabel ? element("span", { class: "badge prelabel-badge", text: "model" }) : "",
    s.prelabel ? element("button", { type: "button", onclick: () => this.accept(s.id) }, "Accept") : "",
    element("button", { type: "button", "aria-label": `Delete ${s.label} span`, onclick: () => this.remove(s.id) }, "×"))));
  }

  paintRelations() {
    if (!this.relationList) return;
    const name = (id) => {
      const s = this.spans.find((x) => x.id === id);
      return s ? `${s.label} “${this._text.slice(s.start, s.end)}”` : id;
    };
    this.relationList.replaceChildren(...this.relations.map((r) => element("li", {},
      `${name(r.from)} → ${r.label} → ${name(r.to)} `,
      element("button", { type: "button", "aria-label": "Delete relation", onclick: () => this.edit(() => {
        this.relations = this.relations.filter((x) => x.id !== r.id);
      }) }, "×"))));
  }

  offsetOf(node, offset) {
    const range = document.createRange();
    range.setStart(this.textBox, 0);
    range.setEnd(node, offset);
    return range.toString().length;
  }

  fromMouseSelection() {
    const selection = window.getSelection();
    if (!selection || selection.isCollapsed || !this.textBox.contains(selection.anchorNode)) return;
    const range = selection.getRangeAt(0);
    const a = this.offsetOf(range.startContainer, range.startOffset);
    const b = this.offsetOf(range.endContainer, range.endOffset);
    selection.removeAllRanges();
    this.addSpan(Math.min(a, b), Math.max(a, b));
  }

  addSpan(start, end) {
    const snapped = snapToWords(this._text, start, end);
    if (!snapped) return;
    [start, end] = snapped;
    const label = this.labels[this.active]?.value;
    if (!label) return;
    if (this.spans.some((s) => s.start === start && s.end === end && s.label === label)) return;
    if (!this.control.overlap && this.spans.some((s) => s.start < end && start < s.end)) {
      this.error = "Spans may not overlap in this project: delete the other span first.";
      return;
    }
    this.error = null;
    const id = newId();
    this.edit(() => { this.spans.push({ id, label, start, end }); this.selectedId = id; });
  }

  spanAt(event) {
    const mark = event.target.closest?.("mark");
    if (!mark || !this.textBox.contains(mark)) return null;
    const ids = mark.dataset.ids.split(" ");
    // Repeated clicks on overlapping spans cycle through them.
    const at = ids.indexOf(this.selectedId);
    return ids[(at + 1) % ids.length] ?? ids[ids.length - 1];
  }

  clickSpan(event) {
    if (!window.getSelection()?.isCollapsed) return;
    const id = this.spanAt(event);
    if (!id) return;
    if (this.linking && this.selectedId && id !== this.selectedId) {
      this.link(this.selectedId, id);
      return;
    }
    this.selectedId = id;
    this.paint();
  }

  acceptPrelabel(event) {
    window.getSelection()?.removeAllRanges();
    // The first click of the double-click selected the span (and repainted the text).
    const selected = this.spans.find((s) => s.id === this.selectedId && s.prelabel);
    const id = selected?.id ?? this.spanAt(event);
    if (id) this.accept(id);
  }

  accept(id) {
    this.edit(() => {
      const span = this.spans.find((s) => s.id === id);
      if (span) span.prelabel = false;
    });
  }

  remove(id) {
    this.edit(() => {
      this.spans = this.spans.filter((s) => s.id !== id);
      this.relations = this.relations.filter((r) => r.from !== id && r.to !== id);
      if (this.selectedId === id) this.selectedId = null;
    });
  }

  startLink() {
    if (!this.relationControl || !this.selectedId) return;
    this.linking = true;
    this.classList.add("linking");
  }

  link(from, to) {
    const label = this.relationLabels[this.activeRelation]?.value;
    this.linking = false;
    this.classList.remove("linking");
    if (!label) return;
    this.edit(() => { this.relations.push({ id: newId(), label, from, to }); });
  }

  // Keyboard selection: a token cursor that arrows move and Shift+arrows extend.
  moveCursor(step, extend) {
    this.tokens ??= tokenize(this._text);
    if (!this.tokens.length) return;
    if (!this.cursor) {
      this.cursor = [0, 0];
    } else {
      const last = Math.min(Math.max(this.cursor[1] + step, 0), this.tokens.length - 1);
      this.cursor = extend ? [this.cursor[0], last] : [last, last];
    }
    this.paintCursor();
  }

  paintCursor() {
    if (!this.cursor || !this.tokens || typeof Highlight === "undefined") return;
    const [a, b] = this.cursor;
    const start = this.tokens[Math.min(a, b)][0];
    const end = this.tokens[Math.max(a, b)][1];
    const range = document.createRange();
    const [startNode, startOffset] = this.locate(start);
    const [endNode, endOffset] = this.locate(end);
    range.setStart(startNode, startOffset);
    range.setEnd(endNode, endOffset);
    CSS.highlights.set("accord-cursor", new Highlight(range));
  }

  locate(offset) {
    let lo = 0;
    let hi = this.segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.segments[mid][0] <= offset) lo = mid;
      else hi = mid - 1;
    }
    const [segmentStart, node] = this.segments[lo];
    return [node, Math.min(offset - segmentStart, node.length)];
  }

  applyKeyboardSelection() {
    if (!this.cursor || !this.tokens || document.activeElement !== this.textBox) return false;
    const [a, b] = this.cursor;
    this.addSpan(this.tokens[Math.min(a, b)][0], this.tokens[Math.max(a, b)][1]);
    return true;
  }

  handleKey(event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return false;
    const inText = document.activeElement === this.textBox;
    if (inText && (event.key === "ArrowRight" || event.key === "ArrowLeft")) {
      this.moveCursor(event.key === "ArrowRight" ? 1 : -1, event.shiftKey);
      return true;
    }
    if (inText && event.key === "Enter" && this.cursor) return this.applyKeyboardSelection();
    if ((event.key === "Delete" || event.key === "Backspace") && this.selectedId) {
      this.remove(this.selectedId);
      return true;
    }
    if (event.key === "Escape" && (this.linking || this.selectedId)) {
      this.linking = false;
      this.classList.remove("linking");
      this.selectedId = null;
      this.paint();
      return true;
    }
    if ((event.key === "r" || event.key === "R") && this.relationControl && this.selectedId
        && !this.labelForHotkey(event.key)) {
      this.startLink();
      return true;
    }
    const label = this.labelForHotkey(event.key);
    if (!label) return false;
    this.active = this.labels.indexOf(label);
    this.paintPicker();
    this.applyKeyboardSelection();
    return true;
  }
}

customElements.define("accord-text-spans", TextSpansWidget);
