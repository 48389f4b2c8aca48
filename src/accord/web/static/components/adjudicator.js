// <accord-adjudicator>: the open item whose answers agree least, every answer side by side
// (choices and values as a table with their authors; spans and image regions overlaid in the
// labeling widgets with one colour per annotator), then "Use this answer" or "Edit and decide"
// (the labeling widgets prefilled with that answer), and on to the next item.
import { api } from "../app.js";
import { PALETTE, element, normaliseLabels } from "./widget-base.js";
import { fieldValue, mediaUrl, renderField } from "./item-fields.js";
import "./labeler.js";

const REGION_TYPES = new Set(["boxes", "rotated_boxes", "polygons", "keypoints", "masks"]);
const OVERLAID = new Set(["spans", ...REGION_TYPES]);
// The overlays are for reading: pointer and key input never reaches their widgets.
const BLOCKED = ["mousedown", "mouseup", "click", "dblclick", "pointerdown", "pointerup", "pointermove", "keydown"];

class Adjudicator extends HTMLElement {
  connectedCallback() {
    this.projectId = Number(this.getAttribute("project-id"));
    this.schema = JSON.parse(document.getElementById("accord-schema").textContent);
    this.fields = new Map(this.schema.fields.map((f) => [f.name, f]));
    this.passed = [];
    this.flash = null;
    this.load();
  }

  async load() {
    const query = this.passed.map((id) => `skip=${id}`).join("&");
    let next;
    try {
      next = await api("GET", `/projects/${this.projectId}/adjudication/next${query ? `?${query}` : ""}`);
    } catch (failure) {
      this.replaceChildren(element("p", { class: "notice error", role: "alert", text: `Could not load the next item: ${failure.message}` }));
      return;
    }
    this.current = next;
    if (!next) this.showDone();
    else await this.render();
  }

  statusLine() {
    const status = element("p", { class: "adjudication-status", role: "status", "aria-live": "polite" });
    if (this.flash) {
      status.textContent = this.flash;
      status.className = "adjudication-status notice ok";
      this.flash = null;
    }
    return status;
  }

  showDone() {
    delete this.dataset.itemId;
    const waiting = this.passed.length;
    const children = [
      element("h2", { text: waiting ? "No more items to adjudicate after these" : "Nothing to adjudicate" }),
      element("p", { text: waiting
        ? `${waiting} item(s) you passed by are still open.`
        : "Every item whose answers disagree has been decided." }),
    ];
    if (waiting) {
      children.push(element("button", { type: "button", onclick: () => { this.passed = []; this.load(); } }, "Start again from the top"));
    } else {
      children.push(element("p", {}, element("a", { href: `/projects/${this.projectId}/review`, text: "Review answers" })));
    }
    this.replaceChildren(this.statusLine(), element("section", { class: "card done-card empty-queue" }, ...children));
  }

  // Each answer's name on screen (authors are unique per item, except after reviewers' fixes).
  namesOf(answers) {
    const seen = new Map();
    for (const { author } of answers) seen.set(author, (seen.get(author) || 0) + 1);
    return answers.map(({ annotation, author }) => {
      const name = author ?? "deleted user";
      return seen.get(author) > 1 ? `${name} (#${annotation.id})` : name;
    });
  }

  async render() {
    const { item, answers, adjudication, agreement, pairs, remaining } = this.current;
    const names = this.namesOf(answers);
    const colours = answers.map((_, i) => PALETTE[i % PALETTE.length]);
    const overlaid = this.schema.controls.filter((c) => OVERLAID.has(c.type));
    const shown = new Set(overlaid.map((c) => c.field));
    const fields = this.schema.fields.filter((f) => !shown.has(f.name)).map((f) => renderField(f, item, this.projectId));
    const overlays = [];
    for (const control of overlaid) overlays.push(await this.overlay(control, item, answers, names, colours));
    this.status = this.statusLine();
    this.editor = element("section", { class: "card adjudication-editor", hidden: true, "aria-label": "Edit and decide" });
    this.replaceChildren(
      element("p", { class: "muted adjudication-counter",
        text: `Item ${item.id} · agreement ${agreement.toFixed(2)} · ${remaining} item(s) open` }),
      element("p", { class: "adjudication-reason", text: adjudication.reason }),
      this.status,
      element("div", { class: "item-fields" }, ...fields),
      overlays.length ? element("div", { class: "adjudication-overlays" }, this.legend(names, colours), ...overlays) : "",
      this.answerTable(item, answers, names, colours),
      this.pairTable(pairs, answers, names),
      this.editor,
      element("div", { class: "adjudication-actions" },
        element("button", { type: "button", onclick: () => this.pass() }, "Pass, next item")),
    );
    this.dataset.itemId = String(item.id);
    this.querySelector(".use-answer")?.focus({ preventScroll: true });
  }

  legend(names, colours) {
    return element("ul", { class: "annotator-legend", "aria-label": "Colour of each annotator" },
      ...names.map((name, i) => element("li", {},
        element("span", { class: "swatch", style: `--swatch:${colours[i]}` }), name)));
  }

  // One labeling widget showing every answer's regions, labelled "author: label", in the
  // author's colour.
  async overlay(control, item, answers, names, colours) {
    const labels = [];
    answers.forEach((_, i) => {
      for (const label of normaliseLabels(control.labels)) {
        labels.push({ value: `${names[i]}: ${label.value}`, color: colours[i] });
      }
    });
    const combined = { ...control, labels, overlap: true };
    const value = answers.flatMap(({ annotation }, i) => (annotation.result[control.name] || []).map((region, j) =>
      ({ ...region, id: `a${annotation.id}-${j}`, label: `${names[i]}: ${region.label ?? ""}` })));
    const field = this.fields.get(control.field);
    let widget;
    if (control.type === "spans") {
      widget = document.createElement("accord-text-spans");
      widget.control = combined;
      widget.text = String(fieldValue(field, item) ?? "");
      widget.value = value;
    } else {
      await import("./image-regions.js");
      widget = document.createElement("accord-image-regions");
      widget.control = combined;
      const info = item.media_info || {};
      if (info.width && info.height) widget.imageSize = { width: info.width, height: info.height };
      widget.src = mediaUrl(this.projectId, item, fieldValue(field, item));
      widget.value = value;
    }
    const box = element("section", { class: "overlay", "data-control": control.name,
      "aria-label": `${control.name}: every answer overlaid` },
    element("h3", { text: `${control.name}: every answer, one colour per annotator` }), widget);
    for (const type of BLOCKED) box.addEventListener(type, (event) => { if (widget.contains(event.target)) event.stopPropagation(); }, true);
    return box;
  }

  answerTable(item, answers, names, colours) {
    const controls = this.schema.controls;
    const textOf = (c) => Array.from(String(fieldValue(this.fields.get(c.field), item) ?? ""));
    const head = element("tr", {}, element("th", { scope: "col", text: "Annotator" }),
      ...controls.map((c) => element("th", { scope: "col", text: c.name })),
      element("th", { scope: "col", text: "Decide" }));
    const rows = answers.map(({ annotation }, i) => element("tr", { "data-annotation": String(annotation.id) },
      element("th", { scope: "row" }, element("span", { class: "swatch", style: `--swatch:${colours[i]}` }), names[i]),
      ...controls.map((c) => element("td", { class: "cell-text", "data-control": c.name,
        text: describe(annotation.result[c.name], c, textOf) })),
      element("td", { class: "decide-cell" },
        element("button", { type: "button", class: "primary use-answer", "aria-label": `Use ${names[i]}'s answer`,
          onclick: () => this.decide({ picked_annotation_id: annotation.id }, `${names[i]}'s answer`) }, "Use this answer"),
        " ",
        element("button", { type: "button", class: "edit-answer", "aria-label": `Edit ${names[i]}'s answer and decide`,
          onclick: () => this.edit(annotation, names[i]) }, "Edit and decide"))));
    return element("table", { class: "grid compact answers-table", "aria-label": "Answers side by side" },
      element("thead", {}, head), element("tbody", {}, ...rows));
  }

  pairTable(pairs, answers, names) {
    if (!pairs.length) return "";
    const nameOf = new Map(answers.map(({ annotation }, i) => [annotation.id, names[i]]));
    return element("details", { class: "pair-agreement" },
      element("summary", { text: "Agreement between each pair of answers" }),
      element("table", { class: "grid compact" },
        element("thead", {}, element("tr", {},
          ...["Answers", "Agreement", "Per control"].map((t) => element("th", { scope: "col", text: t })))),
        element("tbody", {}, ...pairs.map((p) => element("tr", {},
          element("td", { text: `${nameOf.get(p.a)} · ${nameOf.get(p.b)}` }),
          element("td", { text: p.agreement.toFixed(2) }),
          element("td", { text: Object.entries(p.controls).map(([c, v]) => `${c} ${v.toFixed(2)}`).join(", ") }))))));
  }

  // "Edit and decide": the labeling widgets, prefilled with this answer.
  async edit(annotation, name) {
    const labeler = document.createElement("accord-labeler");
    labeler.setAttribute("preview", "");
    labeler.setAttribute("project-id", String(this.projectId));
    this.editor.hidden = false;
    this.editor.replaceChildren(element("h3", { text: `Edit and decide, starting from ${name}'s answer` }), labeler);
    await labeler.show(this.current.item, [], annotation.result);
    labeler.querySelector(".labeler-toolbar")?.remove(); // its submit would make an annotation
    this.editor.append(element("div", { class: "adjudication-actions" },
      element("button", { type: "button", class: "primary decide-edited",
        onclick: () => this.decide({ result: labeler.collect(), picked_annotation_id: annotation.id }, "the edited answer", labeler) },
      "Decide with this result"),
      element("button", { type: "button", onclick: () => { this.editor.hidden = true; this.editor.replaceChildren(); } }, "Cancel")));
    this.editor.scrollIntoView({ block: "start" });
    this.editor.querySelector(".span-text, input, textarea, button")?.focus({ preventScroll: true });
  }

  async decide(body, what, labeler) {
    const itemId = this.current.item.id;
    for (const button of this.querySelectorAll("button")) button.disabled = true;
    labeler?.clearErrors();
    try {
      await api("POST", `/projects/${this.projectId}/adjudications/${itemId}`, body);
      this.flash = `Item ${itemId} decided with ${what}.`;
      await this.load();
    } catch (failure) {
      for (const button of this.querySelectorAll("button")) button.disabled = false;
      if (labeler) labeler.showErrors(failure);
      this.status.textContent = failure.message;
      this.status.className = "adjudication-status notice error";
    }
  }

  pass() {
    if (this.current) this.passed.push(this.current.item.id);
    this.load();
  }
}

// A value in words: labels as they are, regions counted by label.
function describe(value, control, textOf) {
  if (value === undefined || value === null) return "—";
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v !== "object")) return value.join(", ");
    if (control.type === "spans") {
      const text = textOf(control);
      return value.map((s) => `${s.label} “${text.slice(s.start, s.end).join("")}”`).join("; ");
    }
    const counts = new Map();
    for (const region of value) counts.set(region.label ?? "region", (counts.get(region.label ?? "region") || 0) + 1);
    return [...counts].map(([label, n]) => `${n} × ${label}`).join(", ");
  }
  return JSON.stringify(value);
}

customElements.define("accord-adjudicator", Adjudicator);
