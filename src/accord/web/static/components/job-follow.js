// Following a background job through the REST API: GET /jobs/{id} every POLL_MS until it ends.
// While the job waits for a worker, onQueued(job) is called (onProgress when there is none);
// while it runs, onProgress(job). The promise resolves with the finished job. A failed job
// rejects with a JobFailed whose message is the first line of the recorded error; a request
// that fails rejects with the API's own error.
import { api } from "../app.js";

export const POLL_MS = 400;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class JobFailed extends Error {
  constructor(job) {
    super((job.error || "no reason was recorded").trim().split("\n")[0]);
    this.name = "JobFailed";
    this.job = job;
  }
}

export async function followJob(jobId, { onProgress, onQueued } = {}) {
  for (;;) {
    const job = await api("GET", `/jobs/${jobId}`);
    if (job.status === "finished") return job;
    if (job.status === "failed") throw new JobFailed(job);
    const report = job.status === "queued" && onQueued ? onQueued : onProgress;
    report?.(job);
    await sleep(POLL_MS);
  }
}
