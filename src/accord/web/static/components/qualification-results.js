// <accord-qualification-results>: for managers, each annotator's latest qualification or
// recalibration (from the REST API) with a Reset button for those who failed; a reset opens a
// new attempt, so the annotator may try again.
import { api } from "../app.js";
import { element } from "./widget-base.js";

function percent(value) {
  return value === null || value === undefined ? "—" : `${Math.round(value * 1000) / 10}%`;
}

class QualificationResults extends HTMLElement {
  connectedCallback() {
    this.projectId = Number(this.getAttribute("project-id"));
    this.status = element("p", { class: "qualification-status", role: "status", "aria-live": "polite" });
    this.load();
  }

  async load(message = "") {
    let rows;
    try {
      rows = await api("GET", `/projects/${this.projectId}/qualifications?latest=true`);
    } catch (error) {
      this.replaceChildren(element("p", { class: "notice error", text: error.message }));
      return;
    }
    this.status.textContent = message;
    if (!rows.length) {
      this.replaceChildren(element("p", { class: "empty", text: "Nobody has taken a qualification or recalibration yet." }),
        this.status);
      return;
    }
    const body = element("tbody", {}, ...rows.map((row) => {
      const reset = row.status === "failed"
        ? element("button", { type: "button", class: "reset-qualification", onclick: () => this.reset(row.username) }, "Reset")
        : "";
      return element("tr", { "data-annotator": row.username, "data-status": row.status },
        element("th", { scope: "row", text: row.username }),
        element("td", { text: row.kind }),
        element("td", { class: "status", text: row.status.replace("_", " ") }),
        element("td", { class: "num", text: `${row.n_correct} of ${row.n_answered} (${row.n_required} asked)` }),
        element("td", { class: "num", text: percent(row.accuracy) }),
        element("td", { class: "num", text: percent(row.threshold) }),
        element("td", { text: (row.finished_at || row.started_at).slice(0, 16).replace("T", " ") }),
        element("td", {}, reset));
    }));
    const head = element("thead", {}, element("tr", {}, ...["Annotator", "Kind", "Status", "Right",
      "Accuracy", "Needed", "When (UTC)", ""].map((text) => element("th", { scope: "col", text }))));
    this.replaceChildren(element("table", { class: "grid compact qualification-table" }, head, body), this.status);
  }

  async reset(username) {
    for (const button of this.querySelectorAll("button")) button.disabled = true;
    try {
      await api("POST", `/projects/${this.projectId}/qualifications/${encodeURIComponent(username)}/reset`);
      await this.load(`${username} may try again.`);
    } catch (error) {
      await this.load();
      this.status.textContent = error.message;
    }
  }
}

customElements.define("accord-qualification-results", QualificationResults);
