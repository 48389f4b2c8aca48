// <accord-notifications>: a project's unread notifications on its overview (e.g. an annotator
// paused by the gold rule); "Mark as read" tells the REST API and takes the notice off the list.
import { api } from "../app.js";

class Notifications extends HTMLElement {
  connectedCallback() {
    this.projectId = Number(this.getAttribute("project-id"));
    this.list = this.querySelector(".notification-list");
    this.status = this.querySelector(".notification-status");
    this.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-read]");
      if (button && this.contains(button)) this.markRead(button);
    });
  }

  async markRead(button) {
    const item = button.closest("li");
    button.disabled = true;
    try {
      await api("POST", `/projects/${this.projectId}/notifications/${button.dataset.read}/read`);
    } catch (error) {
      button.disabled = false;
      this.say(`Could not mark it as read: ${error.message}`, "error");
      return;
    }
    const next = item.nextElementSibling || item.previousElementSibling;
    item.remove();
    const left = this.list.children.length;
    const count = document.querySelector(".notifications .unread-count");
    if (count) count.textContent = String(left);
    this.querySelector(".no-notifications").hidden = left > 0;
    this.say(left ? `Marked as read; ${left} unread left.` : "Marked as read; nothing unread left.", "ok");
    (next?.querySelector("button[data-read]") || document.getElementById("notifications-title"))?.focus();
  }

  say(text, kind) {
    const line = document.createElement("p");
    line.className = `notice ${kind}`;
    line.textContent = text;
    this.status.replaceChildren(line);
  }
}

customElements.define("accord-notifications", Notifications);
