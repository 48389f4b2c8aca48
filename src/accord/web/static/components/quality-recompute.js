// <accord-quality-recompute>: a manager starts a quality run through the REST API, follows its
// job (waiting, computing control after control, storing) and, once it has finished, replaces
// the page's figures (#quality-figures) with freshly rendered ones; a failure shows its reason.
import { api } from "../app.js";
import { JobFailed, followJob } from "./job-follow.js";
import { refreshRegion } from "./page-refresh.js";

class QualityRecompute extends HTMLElement {
  connectedCallback() {
    this.projectId = Number(this.getAttribute("project-id"));
    this.controls = Number(this.getAttribute("controls")) || 1;
    this.form = this.querySelector("form");
    this.method = this.form.querySelector("select[name=method]");
    this.button = this.form.querySelector("button[type=submit]");
    this.progressBox = this.querySelector(".recompute-progress");
    this.bar = this.querySelector(".recompute-progress progress");
    this.status = this.querySelector(".recompute-status");
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.start();
    });
    const running = Number(this.getAttribute("job-id"));
    if (running) this.follow(running);
  }

  async start() {
    if (this.running) return;
    this.method.removeAttribute("aria-invalid");
    this.setRunning(true);
    this.say(`Starting a run with ${this.methodName(this.method.value)}…`);
    let job;
    try {
      job = await api("POST", `/projects/${this.projectId}/quality/jobs`, { method: this.method.value });
    } catch (error) {
      if (error.body?.errors?.some((e) => e.field === "method")) this.method.setAttribute("aria-invalid", "true");
      this.fail(`The run could not start: ${error.message}`);
      return;
    }
    await this.follow(job.id);
  }

  async follow(jobId) {
    this.setRunning(true);
    this.dataset.jobId = String(jobId);
    this.progressBox.hidden = false;
    let job;
    try {
      job = await followJob(jobId, {
        onQueued: () => {
          this.bar.value = 0;
          this.say("Waiting for a worker to start the run…");
        },
        onProgress: (running) => {
          const done = Math.min(running.progress ?? 0, this.controls);
          this.bar.value = done;
          if (done < this.controls) this.say(`Computing… ${done} of ${this.controls} control(s) done.`);
          else this.say("Storing the results…");
        },
      });
    } catch (error) {
      this.fail(error instanceof JobFailed ? `The quality run failed: ${error.message}`
        : `Could not follow the run (job ${jobId}): ${error.message}`);
      return;
    }
    await this.finished(job);
  }

  async finished(job) {
    this.bar.value = this.controls;
    try {
      await this.refreshFigures();
    } catch (error) {
      this.fail(`The run finished, but the figures could not be reloaded (${error.message}); reload the page.`);
      return;
    }
    const parts = (job.result?.controls ?? []).map(
      (c) => `${c.control}: ${c.n_items.toLocaleString()} items, ${c.n_suspects.toLocaleString()} suspected errors`);
    const method = this.methodName(job.result?.method);
    this.say(`Finished with ${method}${parts.length ? ` · ${parts.join(" · ")}` : ""}.`, "ok");
    this.progressBox.hidden = true;
    this.setRunning(false);
  }

  async refreshFigures() {
    await refreshRegion("quality-figures");
    this.dispatchEvent(new CustomEvent("accord-quality-updated", { bubbles: true }));
  }

  methodName(value) {
    const option = [...this.method.options].find((o) => o.value === value);
    return option ? option.textContent : value || "the project's method";
  }

  setRunning(running) {
    this.running = running;
    this.button.disabled = running;
    this.method.disabled = running;
    this.toggleAttribute("aria-busy", running);
  }

  fail(message) {
    this.say(message, "error");
    this.progressBox.hidden = true;
    this.setRunning(false);
  }

  say(text, kind = "info") {
    this.status.hidden = false;
    this.status.className = `recompute-status notice ${kind}`;
    this.status.textContent = text;
  }
}

customElements.define("accord-quality-recompute", QualityRecompute);
