// Uploads an import file with visible progress, runs it as a background job and follows the
// job until it ends; a failure shows the row number and reason next to the form.
import { api, csrfToken } from "../app.js";

class ImportUpload extends HTMLElement {
  connectedCallback() {
    this.form = this.querySelector("form");
    this.fileInput = this.querySelector("input[type=file]");
    this.progress = this.querySelector(".import-progress");
    this.bar = this.querySelector("progress.upload");
    this.status = this.querySelector(".import-status");
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.start();
    });
  }

  start() {
    const file = this.fileInput.files[0];
    if (!file) return;
    const body = new FormData(this.form);
    if (!body.get("format")) body.delete("format");
    const request = new XMLHttpRequest();
    request.open("POST", `/api/v1/projects/${this.getAttribute("project-id")}/import-jobs`);
    request.setRequestHeader("X-CSRF-Token", csrfToken());
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) this.bar.value = (100 * event.loaded) / event.total;
    });
    request.addEventListener("load", () => {
      const reply = JSON.parse(request.responseText || "{}");
      if (request.status !== 202) {
        this.fail(reply.detail || `upload failed (${request.status})`);
        return;
      }
      this.bar.value = 100;
      this.follow(reply.id);
    });
    request.addEventListener("error", () => this.fail("the upload was interrupted"));
    this.progress.hidden = false;
    this.fileInput.removeAttribute("aria-invalid");
    this.say(`Uploading ${file.name}…`);
    this.form.querySelector("button").disabled = true;
    request.send(body);
  }

  async follow(jobId) {
    for (;;) {
      const job = await api("GET", `/jobs/${jobId}`);
      if (job.status === "finished") {
        const r = job.result;
        this.say(`Imported ${r.n_items.toLocaleString()} items; skipped ${r.n_duplicates.toLocaleString()} duplicates (batch ${r.batch_id}).`, "ok");
        this.form.querySelector("button").disabled = false;
        setTimeout(() => window.location.reload(), 1500);
        return;
      }
      if (job.status === "failed") {
        this.fail(job.error.split("\n")[0]);
        return;
      }
      const rows = job.progress ? `${job.progress.toLocaleString()} rows read` : "waiting to start";
      this.say(`Importing… ${rows}`);
      await new Promise((resolve) => setTimeout(resolve, 400));
    }
  }

  fail(message) {
    this.say(`Nothing was imported: ${message}`, "error");
    this.fileInput.setAttribute("aria-invalid", "true");
    this.form.querySelector("button").disabled = false;
  }

  say(text, kind = "info") {
    this.status.className = `import-status notice ${kind}`;
    this.status.textContent = text;
  }
}

customElements.define("accord-import-upload", ImportUpload);
