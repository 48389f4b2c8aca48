// Ranking (order every option) and pairwise comparison (which of two is better).
import { LabelingWidget, element } from "./widget-base.js";

export class RankingWidget extends LabelingWidget {
  set options(options) {
    this._options = options;
    if (!this.order) this.order = options.map((o) => o.key);
    this.render();
  }

  get value() {
    return this.order ? [...this.order] : null;
  }

  set value(value) {
    if (Array.isArray(value)) this.order = [...value];
    this.render();
  }

  render() {
    if (!this.control || !this._options) return;
    const text = new Map(this._options.map((o) => [String(o.key), o.text]));
    const list = element("ol", { class: "ranking", "aria-label": `${this.control.name}: best first` });
    this.order.forEach((key, i) => {
      list.append(element("li", {},
        element("span", { class: "cell-text", text: text.get(String(key)) ?? String(key) }),
        element("button", { type: "button", "aria-label": "Move up", disabled: i === 0,
          onclick: () => this.move(i, -1) }, "↑"),
        element("button", { type: "button", "aria-label": "Move down", disabled: i === this.order.length - 1,
          onclick: () => this.move(i, 1) }, "↓")));
    });
    this.replaceChildren(element("p", { class: "input-label", text: this.control.description || this.control.name }), list);
  }

  move(index, step) {
    const before = this.value;
    const order = [...this.order];
    [order[index], order[index + step]] = [order[index + step], order[index]];
    this.order = order;
    this.render();
    this.querySelectorAll("li")[index + step]?.querySelector("button:not([disabled])")?.focus();
    this.changed(before);
  }
}

export class PairwiseWidget extends LabelingWidget {
  get value() {
    return this._value ?? null;
  }

  set value(value) {
    this._value = value ?? null;
    this.render();
  }

  render() {
    if (!this.control) return;
    const choices = [["left", "Left is better", "ArrowLeft"], ["right", "Right is better", "ArrowRight"]];
    if (this.control.allow_tie) choices.push(["tie", "Tie", "ArrowDown"]);
    this.replaceChildren(element("div", { class: "pairwise", role: "group", "aria-label": this.control.name },
      ...choices.map(([value, text, key]) => element("button", {
        type: "button", "aria-pressed": String(this._value === value),
        onclick: () => this.pick(value),
      }, text, element("kbd", { text: key.replace("Arrow", "") })))));
  }

  pick(value) {
    const before = this.value;
    this._value = value;
    this.render();
    this.changed(before);
  }

  handleKey(event) {
    const keys = { ArrowLeft: "left", ArrowRight: "right" };
    if (this.control.allow_tie) keys.ArrowDown = "tie";
    const value = keys[event.key];
    if (!value || event.ctrlKey || event.metaKey) return false;
    this.pick(value);
    return true;
  }
}

customElements.define("accord-ranking", RankingWidget);
customElements.define("accord-pairwise", PairwiseWidget);
