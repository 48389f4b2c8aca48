// <accord-duplicates>: a manager runs the duplicates check through the REST API and follows its
// job stage by stage; the group buttons exclude, merge, include or drop redundant items. After
// either, the page's figures (#duplicates-figures) are replaced by freshly rendered ones.
import { api } from "../app.js";
import { JobFailed, followJob } from "./job-follow.js";
import { refreshRegion } from "./page-refresh.js";

const DONE = { exclude: "Excluded", merge: "Merged", include: "Included again", drop: "Dropped" };

class Duplicates extends HTMLElement {
  connectedCallback() {
    this.projectId = Number(this.getAttribute("project-id"));
    this.stages = Number(this.getAttribute("stages")) || 1;
    this.form = this.querySelector(".dup-check-form");
    this.button = this.form.querySelector("button[type=submit]");
    this.progressBox = this.querySelector(".check-progress");
    this.bar = this.querySelector(".check-progress progress");
    this.status = this.querySelector(".check-status");
    this.actionStatus = this.querySelector(".action-status");
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.start();
    });
    this.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-action]");
      if (button && this.contains(button)) this.act(button);
    });
    const running = Number(this.getAttribute("job-id"));
    if (running) this.follow(running);
  }

  async start() {
    if (this.running) return;
    const body = {};
    for (const input of this.form.querySelectorAll("input")) {
      input.removeAttribute("aria-invalid");
      if (input.value !== "") body[input.name] = Number(input.value);
    }
    this.setRunning(true);
    this.say(this.status, "Starting the check…");
    let job;
    try {
      job = await api("POST", `/projects/${this.projectId}/duplicates/jobs`, body);
    } catch (error) {
      for (const e of error.body?.errors ?? []) this.form.querySelector(`[name="${e.field}"]`)?.setAttribute("aria-invalid", "true");
      this.fail(`The check could not start: ${error.message}`);
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
          this.say(this.status, "Waiting for a worker to start the check…");
        },
        onProgress: (running) => {
          const done = Math.min(running.progress ?? 0, this.stages);
          this.bar.value = done;
          this.say(this.status, `Checking… ${done} of ${this.stages} stage(s) done.`);
        },
      });
    } catch (error) {
      this.fail(error instanceof JobFailed ? `The check failed: ${error.message}`
        : `Could not follow the check (job ${jobId}): ${error.message}`);
      return;
    }
    await this.finished(job);
  }

  async finished(job) {
    this.bar.value = this.stages;
    try {
      await this.refresh();
    } catch (error) {
      this.fail(`The check finished, but the figures could not be reloaded (${error.message}); reload the page.`);
      return;
    }
    const r = job.result ?? {};
    const rate = ((r.redundancy_rate ?? 0) * 100).toFixed(2);
    this.say(this.status, `Finished: ${(r.n_groups ?? 0).toLocaleString()} group(s), ${(r.n_redundant ?? 0).toLocaleString()} redundant item(s), redundancy ${rate}%.`, "ok");
    this.progressBox.hidden = true;
    this.setRunning(false);
  }

  async act(button) {
    const action = button.dataset.action;
    const all = button.hasAttribute("data-all");
    const body = all ? { all: true } : { group_ids: [Number(button.dataset.groupId)] };
    const what = all ? "every group" : `the group of item #${button.dataset.groupId}`;
    if (action === "drop" && !window.confirm(`Delete the redundant items of ${what} that have no annotations? This cannot be undone.`)) return;
    button.disabled = true;
    try {
      const result = await api("POST", `/projects/${this.projectId}/duplicates/${action}`, body);
      await this.refresh();
      const left = result.skipped.length ? `; ${result.skipped.length} left as they were (${[...new Set(result.skipped.map((s) => s.reason))].join(", ")})` : "";
      this.say(this.actionStatus, `${DONE[action]} ${result.changed.length} item(s) of ${what}${left}.`, "ok");
    } catch (error) {
      this.say(this.actionStatus, `${action[0].toUpperCase()}${action.slice(1)} failed: ${error.message}`, "error");
    } finally {
      button.disabled = false;
    }
  }

  refresh() {
    return refreshRegion("duplicates-figures");
  }

  setRunning(running) {
    this.running = running;
    this.button.disabled = running;
    this.toggleAttribute("aria-busy", running);
  }

  fail(message) {
    this.say(this.status, message, "error");
    this.progressBox.hidden = true;
    this.setRunning(false);
  }

  say(element, text, kind = "info") {
    element.hidden = false;
    element.className = `${element.classList[0]} notice ${kind}`;
    element.textContent = text;
  }
}

customElements.define("accord-duplicates", Duplicates);
