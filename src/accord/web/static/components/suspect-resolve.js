// <accord-suspect-resolve>: a reviewer's answer to the suspicion that an item's label is wrong,
// saved through the REST API: "Confirm error" or "Labels are right" (dismiss). The answer
// covers every control of the item; the page's status badges follow the server's reply.
import { api } from "../app.js";

class SuspectResolve extends HTMLElement {
  connectedCallback() {
    this.projectId = Number(this.getAttribute("project-id"));
    this.itemId = Number(this.getAttribute("item-id"));
    this.buttons = [...this.querySelectorAll("button[data-status]")];
    this.status = this.querySelector(".resolve-status");
    for (const button of this.buttons) {
      button.addEventListener("click", () => this.resolve(button.dataset.status));
    }
    this.show(this.getAttribute("status"));
  }

  show(status) {
    this.setAttribute("status", status);
    for (const button of this.buttons) button.setAttribute("aria-pressed", String(button.dataset.status === status));
  }

  async resolve(status) {
    for (const button of this.buttons) button.disabled = true;
    try {
      const rows = await api("POST", `/projects/${this.projectId}/quality/suspects/${this.itemId}`, { status });
      for (const row of rows) {
        const box = document.querySelector(`[data-suspect-control="${CSS.escape(row.control)}"]`);
        const badge = box?.querySelector(".suspect-status");
        if (badge) {
          badge.textContent = row.status;
          badge.className = `badge suspect-status ${row.status}`;
        }
      }
      this.show(status);
      this.say(status === "confirmed"
        ? "Confirmed: the label is wrong. Reject or fix the wrong answers in the review queue."
        : "Dismissed: the labels are right and stay as they are.", "ok");
    } catch (error) {
      this.say(error.message, "error");
    } finally {
      for (const button of this.buttons) button.disabled = false;
    }
  }

  say(text, kind) {
    this.status.hidden = false;
    this.status.className = `resolve-status notice ${kind}`;
    this.status.textContent = text;
  }
}

customElements.define("accord-suspect-resolve", SuspectResolve);
