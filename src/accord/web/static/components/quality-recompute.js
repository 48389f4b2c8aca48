// <accord-quality-recompute>: a manager starts a quality run through the REST API, follows its
// job (waiting, computing control after control, storing) and, once it has finished, replaces
// the page's figures (#quality-figures) with freshly rendered ones; a failure shows its reason.
import { api } from "../app.js";

const POLL_MS = 400;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

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
    for (;;) {
      let job;
      try {
        job = await api("GET", `/jobs/${jobId}`);
      } catch (error) {
        this.fail(`Could not follow the run (job ${jobId}): ${error.message}`);
        return;
      }
      if (job.status === "finished") {
        await this.finished(job);
        return;
      }
      if (job.status === "failed") {
        this.fail(`The quality run failed: ${(job.error || "no reason was recorded").trim().split("\n")[0]}`);
        return;
      }
      const done = Math.min(job.progress ?? 0, this.controls);
      this.bar.value = done;
      if (job.status === "queued") this.say("Waiting for a worker to start the run…");
      else if (done < this.controls) this.say(`Computing… ${done} of ${this.controls} control(s) done.`);
      else this.say("Storing the results…");
      await sleep(POLL_MS);
    }
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

  // The page rendered again by the server, so figures come from one place: the templates.
  async refreshFigures() {
    const figures = document.getElementById("quality-figures");
    figures.setAttribute("aria-busy", "true");
    try {
      const response = await fetch(window.location.href, { credentials: "same-origin" });
      if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
      const fresh = new DOMParser().parseFromString(await response.text(), "text/html").getElementById("quality-figures");
      if (!fresh) throw new Error("the page came back without figures");
      figures.replaceChildren(...fresh.childNodes);
      this.dispatchEvent(new CustomEvent("accord-quality-updated", { bubbles: true }));
    } finally {
      figures.removeAttribute("aria-busy");
    }
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
