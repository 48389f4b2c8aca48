// <accord-gold-accuracy>: on the quality page, a manager lets an annotator paused by the gold
// rule work again ("Resume", through the REST API); the annotator's row then shows them active.
import { api } from "../app.js";

class GoldAccuracy extends HTMLElement {
  connectedCallback() {
    this.projectId = Number(this.getAttribute("project-id"));
    this.feedback = this.querySelector(".gold-feedback");
    this.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-resume]");
      if (button && this.contains(button)) this.resume(button);
    });
  }

  async resume(button) {
    const username = button.dataset.resume;
    const row = button.closest("tr");
    button.disabled = true;
    try {
      await api("POST", `/projects/${this.projectId}/members/${encodeURIComponent(username)}/resume`);
      this.showActive(row, button);
      this.say(`${username} is resumed and can label again.`, "ok");
    } catch (error) {
      if (error.status === 409) { // resumed meanwhile, by someone else
        this.showActive(row, button);
        this.say(`${username} was already resumed: ${error.message}.`, "info");
        return;
      }
      button.disabled = false;
      this.say(`${username} could not be resumed: ${error.message}`, "error");
    }
  }

  showActive(row, button) {
    const state = row.querySelector(".gold-state");
    const badge = document.createElement("span");
    badge.className = "badge active";
    badge.textContent = "active";
    state.replaceChildren(badge, " ", Object.assign(document.createElement("span"),
      { className: "muted small", textContent: "resumed just now" }));
    row.removeAttribute("data-paused");
    const next = this.querySelector("button[data-resume]:not(:disabled)");
    button.remove();
    (next || document.getElementById("gold-title"))?.focus();
  }

  say(text, kind) {
    const box = document.createElement("p");
    box.className = `notice ${kind}`;
    box.textContent = text;
    this.feedback.replaceChildren(box);
  }
}

customElements.define("accord-gold-accuracy", GoldAccuracy);
