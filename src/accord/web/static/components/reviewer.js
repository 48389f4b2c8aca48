// <accord-reviewer>: one item at a time with every current annotation of it; accept (A),
// reject with a reason (R), fix in the labeling widgets (F), or move on (N).
import { api } from "../app.js";
import { element } from "./widget-base.js";
import { renderField } from "./item-fields.js";

class Reviewer extends HTMLElement {
  connectedCallback() {
    this.projectId = Number(this.getAttribute("project-id"));
    this.schema = JSON.parse(document.getElementById("accord-schema").textContent);
    this.after = 0;
    document.addEventListener("keydown", (event) => this.onKey(event));
    this.load();
  }

  async load() {
    const next = await api("GET", `/projects/${this.projectId}/review/next?after=${this.after}`);
    if (!next) {
      this.replaceChildren(element("section", { class: "card done-card" },
        element("h2", { text: "Nothing left to review" }),
        element("p", { text: "Every current annotation has a verdict." })));
      return;
    }
    this.current = next;
    this.selected = 0;
    this.render();
  }

  render() {
    const { item, annotations, remaining } = this.current;
    const fields = this.schema.fields.map((f) => renderField(f, item, this.projectId));
    const cards = annotations.map((entry, i) => this.annotationCard(entry, i));
    this.status = element("p", { class: "review-status", role: "status", "aria-live": "polite" });
    this.replaceChildren(
      element("p", { class: "muted", text: `Item ${item.id} · ${remaining} item(s) waiting for review` }),
      element("div", { class: "item-fields" }, ...fields),
      this.status,
      element("div", { class: "review-annotations" }, ...cards),
      element("div", { class: "labeler-toolbar" },
        element("button", { type: "button", onclick: () => this.skipItem() }, "Next item ", element("kbd", { text: "N" }))),
    );
    this.dataset.itemId = String(item.id);
    this.querySelector(".review-card button")?.focus();
  }

  annotationCard({ annotation, author, verdicts }, index) {
    const lines = Object.entries(annotation.result).map(([control, value]) =>
      element("li", {}, element("strong", { text: `${control}: ` }), describe(value, this.current.item)));
    const reason = element("input", { type: "text", class: "reject-reason", placeholder: "Why is it wrong? (the annotator reads this)",
      "aria-label": `Reason for rejecting ${author}'s annotation` });
    const last = verdicts.at(-1);
    return element("article", { class: "review-card card", "data-annotation": String(annotation.id), "data-index": String(index) },
      element("h3", { text: `${author ?? "deleted user"} · version ${annotation.version}` }),
      last ? element("p", { class: "muted", text: `last verdict: ${last.verdict}${last.reason ? ` (${last.reason})` : ""}` }) : "",
      element("ul", { class: "result-lines" }, ...lines),
      element("div", { class: "review-actions" },
        element("button", { type: "button", class: "primary", onclick: () => this.verdict(annotation, "accepted") }, "Accept ", element("kbd", { text: "A" })),
        reason,
        element("button", { type: "button", class: "danger", onclick: () => this.verdict(annotation, "rejected", reason.value) }, "Reject ", element("kbd", { text: "R" })),
        element("a", { class: "button", href: `/projects/${this.projectId}/label?fix=${annotation.id}` }, "Fix ", element("kbd", { text: "F" }))),
      element("p", { class: "field-error", hidden: true }));
  }

  async verdict(annotation, verdict, reason) {
    const card = this.querySelector(`[data-annotation="${annotation.id}"]`);
    const error = card.querySelector(".field-error");
    error.hidden = true;
    try {
      await api("POST", `/projects/${this.projectId}/annotations/${annotation.id}/review`, { verdict, reason });
      card.classList.add(`verdict-${verdict}`);
      card.querySelectorAll("button, input").forEach((el) => { el.disabled = true; });
      this.status.textContent = `${verdict} annotation ${annotation.id}`;
      this.status.className = "review-status notice ok";
      if (!this.querySelector(".review-card:not([class*=verdict-])")) setTimeout(() => this.load(), 400);
    } catch (failure) {
      error.textContent = failure.message;
      error.hidden = false;
      if (failure.body?.errors?.[0]?.field === "reason") card.querySelector(".reject-reason").focus();
    }
  }

  skipItem() {
    this.after = this.current?.item.id ?? this.after;
    this.load();
  }

  onKey(event) {
    if (event.target.matches?.("input, textarea, select") || event.ctrlKey || event.metaKey) {
      if (event.key === "Enter" && event.target.classList?.contains("reject-reason")) {
        event.preventDefault();
        const card = event.target.closest(".review-card");
        const annotation = this.current.annotations[Number(card.dataset.index)].annotation;
        this.verdict(annotation, "rejected", event.target.value);
      }
      return;
    }
    const card = document.activeElement?.closest?.(".review-card") || this.querySelector(".review-card:not([class*=verdict-])");
    if (!card) return;
    const annotation = this.current.annotations[Number(card.dataset.index)].annotation;
    const key = event.key.toLowerCase();
    if (key === "a") this.verdict(annotation, "accepted");
    else if (key === "r") card.querySelector(".reject-reason").focus();
    else if (key === "f") window.location.assign(`/projects/${this.projectId}/label?fix=${annotation.id}`);
    else if (key === "n") this.skipItem();
    else return;
    event.preventDefault();
  }
}

// A result value in words: labels as they are, spans with their text, regions counted.
function describe(value, item) {
  if (typeof value === "string" || typeof value === "number") return String(value);
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v !== "object")) return value.join(", ");
    return value.map((v) => {
      if (v.text !== undefined) return `${v.label} “${v.text}”`;
      if (v.from !== undefined) return `${v.from} → ${v.label} → ${v.to}`;
      if (v.width !== undefined) return `${v.label} box ${Math.round(v.x)},${Math.round(v.y)} ${Math.round(v.width)}×${Math.round(v.height)}`;
      if (v.points !== undefined) return `${v.label ?? "points"} (${Array.isArray(v.points) ? v.points.length : Object.keys(v.points).length} points)`;
      return v.label ?? JSON.stringify(v);
    }).join("; ");
  }
  return JSON.stringify(value);
}

customElements.define("accord-reviewer", Reviewer);
