// <accord-gold-item>: on the item page, a manager makes the item gold with one of its
// annotations as the known answer ("Use as gold answer"), or removes its gold status, through
// the REST API. The parts of the page that depend on it (marked data-gold-region) are then
// rendered again by the server, so they come from one place: the template. A refusal (422: the
// answer does not fit the current schema) shows the server's reasons.
import { api } from "../app.js";

class GoldItem extends HTMLElement {
  connectedCallback() {
    this.projectId = Number(this.getAttribute("project-id"));
    this.itemId = Number(this.getAttribute("item-id"));
    this.feedback = this.querySelector(".gold-feedback");
    this.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-gold-action]");
      if (button && this.contains(button)) this.act(button);
    });
  }

  get path() {
    return `/projects/${this.projectId}/items/${this.itemId}/gold`;
  }

  async act(button) {
    if (this.busy) return;
    const setting = button.dataset.goldAction === "set";
    if (!setting && !window.confirm("Remove this item's gold status? The answers scored against it "
      + "no longer count in the annotators' gold accuracy.")) return;
    this.setBusy(true);
    this.say("");
    try {
      if (setting) await api("PUT", this.path, { result: JSON.parse(button.dataset.result) });
      else await api("DELETE", this.path);
    } catch (error) {
      this.fail(error, setting);
      this.setBusy(false);
      return;
    }
    const done = setting
      ? `The answer of ${button.dataset.annotator} (annotation ${button.dataset.annotation}) is now the item's gold answer.`
      : "The item is an ordinary item again.";
    try {
      await this.refresh();
    } catch (error) {
      this.say(`${done} The page could not be updated (${error.message}); reload it.`, "error");
      return;
    } finally {
      this.setBusy(false);
    }
    this.say(done, "ok");
    this.querySelector("#item-gold-title")?.focus();
  }

  fail(error, setting) {
    const problems = (error.body?.errors || []).filter((p) => p.message || p.msg);
    if (!problems.length) {
      this.say(setting ? `Not saved: ${error.message}` : `Not removed: ${error.message}`, "error");
      return;
    }
    const list = document.createElement("ul");
    for (const p of problems) {
      const li = document.createElement("li");
      const where = p.control || p.field;
      li.textContent = `${where ? `${where}: ` : ""}${p.message || p.msg}${p.path ? ` (at ${p.path})` : ""}`;
      list.append(li);
    }
    this.say("This answer cannot be the gold answer:", "error", list);
  }

  // The page rendered again by the server; each region replaced by its fresh version.
  async refresh() {
    const response = await fetch(window.location.href, { credentials: "same-origin" });
    if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
    for (const region of this.querySelectorAll("[data-gold-region]")) {
      const name = region.dataset.goldRegion;
      const replacement = fresh.querySelector(`[data-gold-region="${CSS.escape(name)}"]`);
      if (replacement) region.replaceWith(document.adoptNode(replacement));
    }
  }

  setBusy(busy) {
    this.busy = busy;
    this.toggleAttribute("aria-busy", busy);
    for (const button of this.querySelectorAll("button[data-gold-action]")) button.disabled = busy;
  }

  say(text, kind = "info", extra = null) {
    if (!this.feedback) return;
    if (!text) {
      this.feedback.replaceChildren();
      return;
    }
    const box = document.createElement("div");
    box.className = `notice ${kind}`;
    const line = document.createElement("p");
    line.textContent = text;
    box.append(line);
    if (extra) box.append(extra);
    this.feedback.replaceChildren(box);
  }
}

customElements.define("accord-gold-item", GoldItem);
