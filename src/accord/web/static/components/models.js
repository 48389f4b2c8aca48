// <accord-models>: the Models page's behaviour, all through the REST API. The form adds a model
// or changes one (Edit fills it) and shows the server's errors next to their fields; Train now
// starts the model's job and follows it (open items predicted) until it ends, then reloads the
// page so that version, fit and acceptance come from the templates; Delete asks first.
import { api } from "../app.js";
import { JobFailed, followJob } from "./job-follow.js";

class ModelsPage extends HTMLElement {
  connectedCallback() {
    this.projectId = Number(this.getAttribute("project-id"));
    this.nOpen = Number(this.getAttribute("n-open")) || 0;
    this.form = this.querySelector("form.model-form");
    this.formTitle = this.querySelector("#model-form-title");
    this.cancel = this.form.querySelector(".cancel-edit");
    this.editing = null;
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.save();
    });
    this.cancel.addEventListener("click", () => this.resetForm());
    this.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-action]");
      if (!button) return;
      const row = button.closest("tr[data-id]");
      const action = button.dataset.action;
      if (action === "train") this.train(row);
      else if (action === "edit") this.edit(row);
      else if (action === "delete") this.remove(row);
      else if (action === "queue-scores") this.queueScores(button);
    });
    for (const row of this.querySelectorAll("tr[data-job-id]")) this.follow(row, Number(row.dataset.jobId));
  }

  values() {
    const f = this.form.elements;
    const body = {
      name: f.name.value.trim(),
      kind: f.kind.value,
      control: f.control.value,
      retrain_every: f.retrain_every.value === "" ? 0 : Number(f.retrain_every.value),
      active: f.active.checked,
    };
    try {
      body.config = JSON.parse(f.config.value.trim() || "{}");
    } catch (error) {
      throw Object.assign(new Error(`Settings are not valid JSON: ${error.message}`),
        { body: { errors: [{ field: "config", msg: `not valid JSON: ${error.message}` }] } });
    }
    return body;
  }

  async save() {
    this.clearErrors();
    let body;
    try {
      body = this.values();
      if (this.editing) await api("PATCH", `/projects/${this.projectId}/models/${this.editing}`, body);
      else await api("POST", `/projects/${this.projectId}/models`, body);
    } catch (error) {
      const placed = this.showErrors(error);
      this.formStatus(placed ? "Please correct the marked fields." : error.message, "error");
      return;
    }
    this.formStatus("Saved.", "ok");
    window.location.reload();
  }

  edit(row) {
    const f = this.form.elements;
    this.editing = Number(row.dataset.id);
    f.name.value = row.dataset.model;
    f.kind.value = row.dataset.kind;
    f.control.value = row.dataset.control;
    f.config.value = JSON.stringify(JSON.parse(row.dataset.config || "{}"), null, 2);
    f.retrain_every.value = row.dataset.retrainEvery;
    f.active.checked = row.dataset.active === "true";
    this.formTitle.textContent = `Change ${row.dataset.model}`;
    this.cancel.style.display = "";
    this.clearErrors();
    this.formTitle.focus();
  }

  resetForm() {
    this.editing = null;
    this.form.reset();
    this.form.elements.config.value = "{}";
    this.formTitle.textContent = "Add a model";
    this.cancel.style.display = "none";
    this.clearErrors();
  }

  async remove(row) {
    if (!window.confirm(`Delete the model ${row.dataset.model} and its pre-labels?`)) return;
    try {
      await api("DELETE", `/projects/${this.projectId}/models/${row.dataset.id}`);
    } catch (error) {
      this.say(row, `Could not delete: ${error.message}`, "error");
      return;
    }
    window.location.reload();
  }

  async train(row) {
    const button = row.querySelector("button[data-action=train]");
    button.disabled = true;
    this.say(row, "Starting…");
    let job;
    try {
      job = await api("POST", `/projects/${this.projectId}/models/${row.dataset.id}/jobs`,
        { mode: row.dataset.mode || "train" });
    } catch (error) {
      this.say(row, `Could not start: ${error.message}`, "error");
      button.disabled = false;
      return;
    }
    await this.follow(row, job.id);
  }

  async follow(row, jobId) {
    const button = row.querySelector("button[data-action=train]");
    const box = row.querySelector(".model-progress");
    const bar = box.querySelector("progress");
    button.disabled = true;
    box.hidden = false;
    row.dataset.jobId = String(jobId);
    let job;
    try {
      job = await followJob(jobId, {
        onQueued: () => {
          bar.value = 0;
          this.say(row, "Waiting for a worker…");
        },
        onProgress: (running) => {
          const done = Math.min(running.progress ?? 0, this.nOpen);
          bar.value = done;
          if (!running.progress) this.say(row, "Training…");
          else this.say(row, `Predicting… ${done.toLocaleString()} of ${this.nOpen.toLocaleString()} open items.`);
        },
      });
    } catch (error) {
      if (error instanceof JobFailed) {
        box.hidden = true;
        this.say(row, `Failed: ${error.message}`, "error");
      } else {
        this.say(row, `Could not follow job ${jobId}: ${error.message}`, "error");
      }
      button.disabled = false;
      return;
    }
    bar.value = bar.max;
    const r = job.result || {};
    this.say(row, `Done: version ${r.version}, ${Number(r.n_predictions || 0).toLocaleString()} pre-label(s).`, "ok");
    window.location.reload();
  }

  async queueScores(button) {
    const box = this.querySelector(".queue-status");
    button.disabled = true;
    box.hidden = false;
    box.className = "queue-status notice";
    box.textContent = "Computing…";
    try {
      const done = await api("POST", `/projects/${this.projectId}/models/queue-scores`, {});
      box.className = "queue-status notice ok";
      box.textContent = `${done.n_scored.toLocaleString()} of ${done.n_open.toLocaleString()} open items have a priority (${done.strategy}).`;
    } catch (error) {
      box.className = "queue-status notice error";
      box.textContent = error.message;
    } finally {
      button.disabled = false;
    }
  }

  say(row, text, kind = "info") {
    const status = row.querySelector(".model-job-status");
    status.hidden = false;
    status.className = `model-job-status small ${kind === "error" ? "field-error" : "muted"}`;
    status.textContent = text;
  }

  formStatus(text, kind) {
    const box = this.form.querySelector(".form-status");
    box.textContent = text;
    box.className = `form-status ${kind === "error" ? "field-error" : "muted"}`;
  }

  clearErrors() {
    for (const node of this.form.querySelectorAll(".inline-error")) node.remove();
    for (const node of this.form.querySelectorAll("[aria-invalid]")) {
      node.removeAttribute("aria-invalid");
      node.removeAttribute("aria-describedby");
    }
    this.formStatus("", "ok");
  }

  // A problem names its field ("config.url" belongs to the config box).
  showErrors(error) {
    let placed = false;
    for (const problem of error.body?.errors || []) {
      const name = String(problem.field || "").split(".")[0];
      const input = name && this.form.querySelector(`[name="${name}"]`);
      if (!input) continue;
      input.setAttribute("aria-invalid", "true");
      const note = document.createElement("p");
      note.className = "field-error inline-error";
      note.id = `${input.id}-error`;
      note.textContent = problem.msg || problem.message || error.message;
      input.setAttribute("aria-describedby", note.id);
      (input.type === "checkbox" ? input.closest("label") : input).after(note);
      placed = true;
    }
    return placed;
  }
}

customElements.define("accord-models", ModelsPage);
