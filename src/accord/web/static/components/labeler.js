// <accord-labeler>: gets the next item from the queue, shows its fields and one widget per
// control, and submits, skips or revises through the REST API. Keyboard first: every action has
// a shortcut, listed in the help overlay (press ?).
import { api } from "../app.js";
import { element } from "./widget-base.js";
import { fieldValue, mediaUrl, renderField } from "./item-fields.js";
import "./form-controls.js";
import "./text-spans.js";
import "./comparison-controls.js";

const REGION_TYPES = new Set(["boxes", "rotated_boxes", "polygons", "keypoints", "masks"]);
const SIMPLE_TAGS = {
  choices: "accord-choices", rating: "accord-rating", number: "accord-number",
  text: "accord-free-text", ranking: "accord-ranking", pairwise: "accord-pairwise",
};

// The queue refuses an annotator paused by the project's quality rule with this detail (403).
const PAUSED = "you are paused on this project: ";
const PAUSED_END = "; a manager can let you continue";
// ... and one who must pass a qualification or recalibration first (core/training.py).
const TRAINING = /^(qualification|recalibration) needed: /;

const SHORTCUTS = [
  ["Ctrl+Enter", "submit and go to the next item"],
  ["Ctrl+Shift+S", "skip this item (asks for a reason)"],
  ["Ctrl+←", "previous: reopen the item you submitted last, to revise it"],
  ["Ctrl+→", "next: back to new items"],
  ["Ctrl+Z / Ctrl+Shift+Z", "undo / redo"],
  ["Ctrl+.", "show or hide the guidelines"],
  ["?", "this help"],
  ["1–9, label keys", "choose a label (see each control)"],
  ["← → / Shift+← →, Enter", "text spans: move / extend the word selection, label it"],
  ["R, Delete, Esc", "spans: link the selected span, delete it, cancel"],
];

class Labeler extends HTMLElement {
  connectedCallback() {
    this.projectId = Number(this.getAttribute("project-id"));
    this.useSchema(JSON.parse(document.getElementById("accord-schema").textContent));
    this.widgets = new Map();
    this.edits = [];
    this.undone = [];
    this.submitted = [];
    this.revising = null;
    this.addEventListener("accord-change", (event) => {
      if (!this.replaying) {
        this.edits.push(event.detail.control);
        this.undone = [];
      }
      this.markDirty();
    });
    if (this.hasAttribute("preview")) return; // the schema editor drives it: see preview()
    this.keyHandler = (event) => this.onKey(event);
    document.addEventListener("keydown", this.keyHandler);
    this.showWhatChanged();
    this.fixing = Number(new URLSearchParams(window.location.search).get("fix")) || null;
    if (this.fixing) this.openForFix(this.fixing);
    else this.next();
  }

  // A reviewer corrects someone's annotation: the same widgets, saved as a "fixed" verdict.
  async openForFix(annotationId) {
    this.setBusy(true);
    try {
      const annotation = await api("GET", `/projects/${this.projectId}/annotations/${annotationId}`);
      const item = await api("GET", `/projects/${this.projectId}/items/${annotation.item_id}`);
      this.revising = annotation;
      await this.show(item, [], annotation.result);
      this.notice(`Fixing annotation ${annotation.id}: submit saves your corrected version.`, "info");
    } catch (error) {
      this.notice(error.message, "error");
    } finally {
      this.setBusy(false);
    }
  }

  useSchema(schema) {
    this.schema = schema;
    this.fields = new Map(schema.fields.map((f) => [f.name, f]));
  }

  // The schema editor's live preview: this schema on a sample item; nothing is submitted.
  async preview(schema, item) {
    this.useSchema(schema);
    await this.show(item, [], null);
    for (const button of this.querySelectorAll(".labeler-toolbar button")) button.disabled = true;
  }

  disconnectedCallback() {
    if (this.keyHandler) document.removeEventListener("keydown", this.keyHandler);
  }

  async next() {
    this.revising = null;
    this.setBusy(true);
    try {
      const lease = await api("POST", `/projects/${this.projectId}/next`);
      this.paused = false;
      if (!lease) {
        this.showDone();
        return;
      }
      await this.show(lease.item, lease.predictions, lease.rework?.annotation.result ?? null);
      if (lease.rework) {
        this.notice(`A reviewer sent your answer back: ${lease.rework.reason || "no reason given"}`, "error");
      }
    } catch (error) {
      if (error.status === 403 && TRAINING.test(error.message)) await this.showTraining();
      else if (error.status === 403 && error.message.startsWith(PAUSED)) this.showPaused(error.message);
      else this.notice(error.message, "error");
    } finally {
      this.setBusy(false);
    }
  }

  // Paused: say why, and ask the queue again only when the annotator says so.
  showPaused(detail) {
    this.item = null;
    this.paused = true;
    delete this.dataset.itemId;
    let reason = detail.slice(PAUSED.length);
    if (reason.endsWith(PAUSED_END)) reason = reason.slice(0, -PAUSED_END.length);
    reason = reason.trim() || "no reason was given";
    const retry = element("button", { type: "button", class: "primary" }, "Check again");
    retry.addEventListener("click", () => {
      retry.disabled = true;
      this.next().finally(() => { retry.disabled = false; });
    });
    this.noticeBox = null;
    this.replaceChildren(element("section", { class: "card paused-card", role: "alert" },
      element("h2", { text: "You are paused on this project" }),
      element("p", {}, "Reason: ", element("strong", { class: "pause-reason", text: reason })),
      element("p", { text: "No more items are given to you until a manager of the project lets you continue." }),
      element("p", { class: "paused-actions" }, retry, " ",
        element("a", { href: `/projects/${this.projectId}`, text: "Back to the project" }))));
    retry.focus({ preventScroll: true });
  }

  // A qualification or recalibration first: the gate, its items with feedback, the result
  // (trainer.js); real items come once it is passed.
  async showTraining() {
    this.item = null;
    this.paused = true;
    this.widgets.clear();
    delete this.dataset.itemId;
    this.noticeBox = null;
    await import("./trainer.js");
    const trainer = element("accord-trainer", { "project-id": String(this.projectId), mode: "gate" });
    trainer.addEventListener("accord-qualified", () => this.next(), { once: true });
    this.replaceChildren(trainer);
  }

  async previous() {
    if (this.paused) return;
    const last = this.submitted[this.submitted.length - 1];
    if (!last) {
      this.notice("Nothing submitted yet in this visit.", "info");
      return;
    }
    this.setBusy(true);
    try {
      const [item, annotation] = await Promise.all([
        api("GET", `/projects/${this.projectId}/items/${last.itemId}`),
        api("GET", `/projects/${this.projectId}/annotations/${last.annotationId}`),
      ]);
      const latest = annotation.is_latest ? annotation
        : (await api("GET", `/projects/${this.projectId}/annotations/${annotation.id}/history`)).at(-1);
      this.revising = latest;
      await this.show(item, [], latest.result);
      this.notice(`Revising your answer (version ${latest.version}); submit saves a new version.`, "info");
    } catch (error) {
      this.notice(error.message, "error");
    } finally {
      this.setBusy(false);
    }
  }

  async show(item, predictions, result) {
    this.item = item;
    this.widgets.clear();
    this.edits = [];
    this.undone = [];
    const fieldsBox = element("div", { class: "item-fields" });
    const controlsBox = element("div", { class: "item-controls" });
    const shownByWidget = new Set();
    const relationsFor = new Map(this.schema.controls
      .filter((c) => c.type === "relations").map((c) => [c.spans, c]));

    for (const control of this.schema.controls) {
      if (control.type === "relations") continue;
      const widget = await this.createWidget(control, item, relationsFor.get(control.name));
      if (!widget) continue;
      this.widgets.set(control.name, widget);
      if (control.type === "spans" || REGION_TYPES.has(control.type)) {
        shownByWidget.add(control.field);
        fieldsBox.append(widget);
      } else {
        controlsBox.append(widget);
      }
    }
    fieldsBox.prepend(...this.schema.fields
      .filter((field) => !shownByWidget.has(field.name))
      .map((field) => renderField(field, item, this.projectId)));

    const prediction = (predictions || [])[0];
    this.applyResult(result || {}, prediction?.result);
    const header = element("div", { class: "item-header" },
      element("span", { class: "muted", text: `Item ${item.id}` }),
      prediction ? element("span", { class: "badge prelabel-badge",
        text: `pre-labels from ${prediction.model_name} ${prediction.model_version}` }) : "");
    this.noticeBox = element("div", { class: "labeler-notice", role: "status", "aria-live": "polite" });
    this.replaceChildren(header, this.noticeBox, fieldsBox, controlsBox, this.toolbar());
    this.startedAt = performance.now();
    this.dataset.itemId = String(item.id);
    this.dispatchEvent(new CustomEvent("accord-item-shown", { bubbles: true, detail: { itemId: item.id } }));
    if (!this.hasAttribute("preview")) {
      const first = this.querySelector(".span-text, accord-image-regions, input, textarea, button");
      first?.focus({ preventScroll: true });
    }
  }

  async createWidget(control, item, relationsControl) {
    const field = this.fields.get(control.field);
    let widget;
    if (control.type === "spans") {
      widget = document.createElement("accord-text-spans");
      widget.control = control;
      widget.text = String(fieldValue(field, item) ?? "");
      if (relationsControl) widget.relationsControl = relationsControl;
    } else if (REGION_TYPES.has(control.type)) {
      await import("./image-regions.js");
      widget = document.createElement("accord-image-regions");
      widget.control = control;
      const info = item.media_info || {};
      if (info.width && info.height) widget.imageSize = { width: info.width, height: info.height };
      widget.src = mediaUrl(this.projectId, item, fieldValue(field, item));
    } else if (SIMPLE_TAGS[control.type]) {
      widget = document.createElement(SIMPLE_TAGS[control.type]);
      widget.control = control;
      if (control.type === "ranking") widget.options = this.rankingOptions(control, item);
    } else {
      const note = element("p", { class: "notice", "data-control": control.name,
        text: `${control.name} (${control.type}) is answered through the API or the SDK; this page does not edit it.` });
      return Object.assign(note, { value: undefined, handleKey: () => false });
    }
    return widget;
  }

  rankingOptions(control, item) {
    if (control.options?.length) return control.options.map((o) => ({ key: o, text: o }));
    const listed = fieldValue(this.fields.get(control.field), item);
    return (Array.isArray(listed) ? listed : []).map((text, i) => ({ key: i, text: String(text) }));
  }

  applyResult(result, predicted) {
    for (const [name, widget] of this.widgets) {
      if (result[name] !== undefined) widget.value = result[name];
      if (widget.tagName === "ACCORD-TEXT-SPANS") {
        const relations = this.schema.controls.find((c) => c.type === "relations" && c.spans === name);
        if (relations && result[relations.name]) widget.relationsValue = result[relations.name];
      }
      if (predicted && predicted[name] !== undefined && "predictions" in widget) {
        widget.predictions = predicted[name];
      }
    }
  }

  collect() {
    const result = {};
    for (const [name, widget] of this.widgets) {
      const value = widget.value;
      if (value !== undefined && value !== null && !(Array.isArray(value) && !value.length)) {
        result[name] = value;
      }
      if (widget.tagName === "ACCORD-TEXT-SPANS" && widget.relationControl) {
        const relations = widget.relationsValue;
        if (relations.length) result[widget.relationControl.name] = relations;
      }
    }
    return result;
  }

  async submit() {
    if (!this.item || this.busy) return;
    const leadTime = Math.round((performance.now() - this.startedAt) / 10) / 100;
    const body = { result: this.collect(), lead_time: leadTime };
    this.clearErrors();
    this.setBusy(true);
    try {
      let annotation;
      if (this.fixing) {
        await api("POST", `/projects/${this.projectId}/annotations/${this.fixing}/review`,
          { verdict: "fixed", result: body.result });
        // Back to the queue the fix came from (the suspected errors, or the unreviewed answers).
        const suspected = new URLSearchParams(window.location.search).get("queue") === "suspected";
        window.location.assign(`/projects/${this.projectId}/review${suspected ? "?queue=suspected" : ""}`);
        return;
      }
      if (this.revising) {
        annotation = await api("PUT", `/projects/${this.projectId}/annotations/${this.revising.id}`, body);
      } else {
        annotation = await api("POST", `/projects/${this.projectId}/items/${this.item.id}/annotations`, body);
        this.submitted.push({ itemId: this.item.id, annotationId: annotation.id });
      }
      this.dispatchEvent(new CustomEvent("accord-submitted", { bubbles: true, detail: annotation }));
      this.setBusy(false);
      await this.next();
    } catch (error) {
      this.setBusy(false);
      this.showErrors(error);
    }
  }

  async skip() {
    if (!this.item || this.busy || this.revising) return;
    const reason = window.prompt("Why skip this item? (optional)", "") ?? null;
    if (reason === null) return;
    this.setBusy(true);
    try {
      await api("POST", `/projects/${this.projectId}/items/${this.item.id}/skip`, { reason });
      this.setBusy(false);
      await this.next();
    } catch (error) {
      this.setBusy(false);
      this.showErrors(error);
    }
  }

  showErrors(error) {
    const problems = error.body?.errors || [];
    for (const problem of problems) {
      const widget = this.widgets.get(problem.control);
      if (widget && "error" in widget) {
        widget.error = `${problem.message}${problem.path ? ` (at ${problem.path})` : ""}`;
      }
    }
    if (error.status === 409) {
      this.notice(`${error.message} Getting the next item…`, "error");
      setTimeout(() => this.next(), 1500);
      return;
    }
    this.notice(error.message, "error");
  }

  clearErrors() {
    for (const widget of this.widgets.values()) if ("error" in widget) widget.error = null;
  }

  undo() {
    const name = this.edits.pop();
    if (!name) return;
    this.replaying = true;
    this.widgets.get(name)?.undo();
    this.replaying = false;
    this.undone.push(name);
  }

  redo() {
    const name = this.undone.pop();
    if (!name) return;
    this.replaying = true;
    this.widgets.get(name)?.redo();
    this.replaying = false;
    this.edits.push(name);
  }

  onKey(event) {
    if (event.defaultPrevented) return;
    const typing = event.target.matches?.("input:not([type=radio]):not([type=checkbox]), textarea, select");
    const ctrl = event.ctrlKey || event.metaKey;
    const shortcuts = [
      [ctrl && event.key === "Enter", () => this.submit()],
      [ctrl && event.shiftKey && event.key.toLowerCase() === "s", () => this.skip()],
      [ctrl && event.key === "ArrowLeft" && !typing, () => this.previous()],
      [ctrl && event.key === "ArrowRight" && !typing, () => this.next()],
      [ctrl && !event.shiftKey && event.key.toLowerCase() === "z" && !typing, () => this.undo()],
      [ctrl && ((event.shiftKey && event.key.toLowerCase() === "z") || event.key.toLowerCase() === "y") && !typing,
        () => this.redo()],
      [ctrl && event.key === ".", () => toggleGuidelines()],
      [!ctrl && event.key === "?" && !typing, () => this.help()],
    ];
    for (const [matches, action] of shortcuts) {
      if (matches) {
        event.preventDefault();
        action();
        return;
      }
    }
    if (typing || this.busy) return;
    const focused = [...this.widgets.values()].find((w) => w.contains?.(event.target));
    const order = focused ? [focused, ...[...this.widgets.values()].filter((w) => w !== focused)]
      : [...this.widgets.values()];
    for (const widget of order) {
      if (widget.handleKey?.(event)) {
        event.preventDefault();
        return;
      }
    }
  }

  toolbar() {
    const button = (text, key, action, cls = "") => element("button", {
      type: "button", class: cls, onclick: action, "aria-keyshortcuts": key,
    }, text, " ", element("kbd", { text: key }));
    return element("div", { class: "labeler-toolbar", role: "toolbar", "aria-label": "Actions" },
      button("Previous", "Ctrl+←", () => this.previous()),
      button(this.revising ? "Save revision" : "Submit", "Ctrl+Enter", () => this.submit(), "primary submit"),
      this.revising ? button("Back to new items", "Ctrl+→", () => this.next())
        : button("Skip", "Ctrl+Shift+S", () => this.skip()),
      button("Undo", "Ctrl+Z", () => this.undo()),
      button("Redo", "Ctrl+Shift+Z", () => this.redo()),
      button("Help", "?", () => this.help()));
  }

  help() {
    let dialog = document.getElementById("labeler-help");
    if (!dialog) {
      const rows = SHORTCUTS.map(([key, what]) => element("tr", {},
        element("th", { scope: "row" }, element("kbd", { text: key })), element("td", { text: what })));
      for (const control of this.schema.controls) {
        for (const label of control.labels || []) {
          if (typeof label === "object" && label.hotkey) {
            rows.push(element("tr", {}, element("th", { scope: "row" }, element("kbd", { text: label.hotkey })),
              element("td", { text: `${control.name}: ${label.value}` })));
          }
        }
      }
      dialog = element("dialog", { id: "labeler-help", "aria-labelledby": "labeler-help-title" },
        element("h2", { id: "labeler-help-title", text: "Keyboard shortcuts" }),
        element("table", { class: "grid compact" }, element("tbody", {}, ...rows)),
        element("form", { method: "dialog" }, element("button", { class: "primary", text: "Close" })));
      document.body.append(dialog);
    }
    dialog.showModal();
  }

  showDone() {
    this.item = null;
    this.replaceChildren(element("section", { class: "card done-card" },
      element("h2", { text: "Nothing left for you here" }),
      element("p", { text: "Every item either has all the labels it needs or has already been yours. Thank you!" }),
      element("p", {}, element("a", { href: `/projects/${this.projectId}`, text: "Back to the project" }))));
  }

  notice(message, kind = "info") {
    if (!this.noticeBox) {
      this.noticeBox = element("div", { class: "labeler-notice", role: "status", "aria-live": "polite" });
      this.prepend(this.noticeBox);
    }
    this.noticeBox.replaceChildren(element("p", { class: `notice ${kind}`, text: message }));
  }

  markDirty() {
    this.noticeBox?.replaceChildren();
  }

  setBusy(busy) {
    this.busy = busy;
    this.toggleAttribute("aria-busy", busy);
    for (const b of this.querySelectorAll(".labeler-toolbar button")) b.disabled = busy;
  }

  // When the guidelines changed since this browser last showed them, say what changed.
  showWhatChanged() {
    const box = document.querySelector(".guidelines-what-changed");
    if (!box) return;
    const key = `accord-guidelines-seen-${box.dataset.project}`;
    const seen = Number(localStorage.getItem(key) || 0);
    const current = Number(box.dataset.version);
    if (seen && seen < current) box.hidden = false;
    localStorage.setItem(key, String(current));
  }
}

function toggleGuidelines() {
  const panel = document.getElementById("guidelines");
  if (panel) panel.hidden = !panel.hidden;
}

customElements.define("accord-labeler", Labeler);
