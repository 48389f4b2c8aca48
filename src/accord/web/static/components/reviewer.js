// <accord-reviewer>: one item at a time with every current annotation of it; accept (A),
// reject with a reason (R), fix in the labeling widgets (F), or move on (N). With
// queue="suspected" it walks the items suspected of a label error, most suspicious first: the
// suspicion's reasons come before the answers, rejecting or fixing an answer confirms it (the
// server does that), and "Labels are right" (D) dismisses it and moves on.
import { api } from "../app.js";
import { element } from "./widget-base.js";
import { renderField } from "./item-fields.js";

class Reviewer extends HTMLElement {
  connectedCallback() {
    this.projectId = Number(this.getAttribute("project-id"));
    this.suspected = this.getAttribute("queue") === "suspected";
    this.schema = JSON.parse(document.getElementById("accord-schema").textContent);
    this.after = 0;
    this.flash = null;
    document.addEventListener("keydown", (event) => this.onKey(event));
    this.load();
  }

  async load() {
    const queue = this.suspected ? "suspected" : "unreviewed";
    const ask = (after) => api("GET", `/projects/${this.projectId}/review/next?queue=${queue}&after=${after}`);
    let next;
    let passedBy = null;
    try {
      next = await ask(this.after);
      // Nothing after this item: is the queue empty, or are there items the reviewer passed by?
      if (!next && this.after > 0) passedBy = await ask(0);
    } catch (failure) {
      this.current = null;
      this.replaceChildren(element("p", { class: "notice error", role: "alert", text: `Could not load the next item: ${failure.message}` }));
      return;
    }
    if (!next) {
      this.current = null;
      if (!passedBy) this.after = 0;
      this.showDone(passedBy?.remaining ?? 0);
      return;
    }
    this.current = next;
    this.selected = 0;
    this.render();
  }

  // The end of the queue; ``waiting`` items were passed by and are still in it.
  showDone(waiting) {
    delete this.dataset.itemId;
    const passedBy = waiting > 0;
    const children = [];
    if (this.suspected) {
      children.push(
        element("h2", { text: passedBy ? "No more suspected errors after this one" : "No suspected errors left to review" }),
        element("p", { text: passedBy
          ? `${waiting} suspected item(s) you passed by are still open.`
          : "Every suspected label error of the latest quality run is confirmed or dismissed." }),
        element("p", {},
          element("a", { href: `/projects/${this.projectId}/quality` }, "Quality of this project"), " · ",
          element("a", { href: `/projects/${this.projectId}/review` }, "Unreviewed answers")));
    } else {
      children.push(
        element("h2", { text: passedBy ? "Nothing left to review after this item" : "Nothing left to review" }),
        element("p", { text: passedBy
          ? `${waiting} item(s) you passed by still wait for a verdict.`
          : "Every current annotation has a verdict." }));
    }
    if (passedBy) {
      children.push(element("button", { type: "button", onclick: () => { this.after = 0; this.load(); } }, "Start again from the top"));
    }
    this.status = this.statusLine();
    this.replaceChildren(this.status, element("section", { class: "card done-card", "aria-live": "polite" }, ...children));
  }

  statusLine() {
    const status = element("p", { class: "review-status", role: "status", "aria-live": "polite" });
    if (this.flash) {
      status.textContent = this.flash;
      status.className = "review-status notice ok";
      this.flash = null;
    }
    return status;
  }

  render() {
    const { item, annotations, remaining } = this.current;
    const open = (this.current.suspects || []).filter((s) => s.status === "open");
    const fields = this.schema.fields.map((f) => renderField(f, item, this.projectId));
    const cards = annotations.map((entry, i) => this.annotationCard(entry, i));
    this.status = this.statusLine();
    const counter = this.suspected
      ? `Item ${item.id} · ${remaining} suspected item(s) open`
      : `Item ${item.id} · ${remaining} item(s) waiting for review`;
    const toolbar = element("div", { class: "labeler-toolbar" },
      element("button", { type: "button", onclick: () => this.skipItem() }, "Next item ", element("kbd", { text: "N" })));
    this.replaceChildren(
      element("p", { class: "muted", text: counter }),
      element("div", { class: "item-fields" }, ...fields),
      open.length ? this.suspicionCard(open) : "",
      this.status,
      element("div", { class: "review-annotations" }, ...cards),
      toolbar,
    );
    this.dataset.itemId = String(item.id);
    this.querySelector(".review-card button")?.focus();
  }

  suspicionCard(suspects) {
    const lines = suspects.map((s) => element("div", { class: "suspect", "data-control": s.control },
      element("p", {},
        element("strong", { text: `${s.control}: ` }),
        `given “${s.label}”`,
        s.suggested_label && s.suggested_label !== s.label ? `, suggested “${s.suggested_label}”` : "",
        ` · score ${s.score.toFixed(2)} · evidence: ${s.sources}`),
      element("ul", { class: "reasons" }, ...s.reasons.map((reason) => element("li", { text: reason })))));
    return element("section", { class: "card suspicion", "aria-label": "Why this item is suspected of a label error" },
      element("h3", { text: "Suspected label error" }),
      ...lines,
      this.suspected
        ? element("div", { class: "suspect-actions" },
          element("button", { type: "button", class: "dismiss-suspect", onclick: () => this.dismiss() },
            "Labels are right ", element("kbd", { text: "D" })),
          element("span", { class: "muted", text: "dismisses the suspicion; rejecting or fixing an answer below confirms it." }))
        : "");
  }

  fixUrl(annotation) {
    return `/projects/${this.projectId}/label?fix=${annotation.id}${this.suspected ? "&queue=suspected" : ""}`;
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
        element("a", { class: "button", href: this.fixUrl(annotation) }, "Fix ", element("kbd", { text: "F" }))),
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
      const confirmed = verdict !== "accepted" && this.current.suspects?.some((s) => s.status === "open");
      this.status.textContent = `${verdict} annotation ${annotation.id}${confirmed ? " · the suspicion is confirmed" : ""}`;
      this.status.className = "review-status notice ok";
      if (!this.querySelector(".review-card:not([class*=verdict-])")) {
        // The suspect stays in its queue until it is resolved: move past it, not back to it.
        if (this.suspected) this.after = this.current.item.id;
        setTimeout(() => this.load(), 400);
      }
    } catch (failure) {
      error.textContent = failure.message;
      error.hidden = false;
      if (failure.body?.errors?.[0]?.field === "reason") card.querySelector(".reject-reason").focus();
    }
  }

  async dismiss() {
    if (!this.current || this.dismissing) return;
    const itemId = this.current.item.id;
    this.dismissing = true;
    try {
      await api("POST", `/projects/${this.projectId}/quality/suspects/${itemId}`, { status: "dismissed" });
      this.flash = `Item ${itemId}: the labels are right, its suspicion is dismissed.`;
      this.after = itemId;
      await this.load();
    } catch (failure) {
      this.status.textContent = failure.message;
      this.status.className = "review-status notice error";
    } finally {
      this.dismissing = false;
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
    if (!this.current) return;
    const key = event.key.toLowerCase();
    if (key === "n") {
      event.preventDefault();
      this.skipItem();
      return;
    }
    if (key === "d" && this.suspected) {
      event.preventDefault();
      this.dismiss();
      return;
    }
    const card = document.activeElement?.closest?.(".review-card") || this.querySelector(".review-card:not([class*=verdict-])");
    if (!card) return;
    const annotation = this.current.annotations[Number(card.dataset.index)].annotation;
    if (key === "a") this.verdict(annotation, "accepted");
    else if (key === "r") card.querySelector(".reject-reason").focus();
    else if (key === "f") window.location.assign(this.fixUrl(annotation));
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
