// The settings page: forms save through the REST API and show its errors next to their fields;
// the schema is checked as it is typed and the labeling page previewed with it.
import { api, csrfToken } from "./app.js";

function fieldValues(form) {
  const body = {};
  for (const input of form.querySelectorAll("input[name], select[name], textarea[name]")) {
    if (input.disabled) continue; // as a plain form would: a switched-off setting is not sent
    // costly to apply again (e.g. regrouping every item): sent only when it was changed
    if ("sendChanged" in input.dataset && input.value === input.defaultValue) continue;
    if (input.type === "checkbox") body[input.name] = input.checked;
    else if (input.dataset.type === "int" || input.dataset.type === "float") {
      body[input.name] = input.value === "" ? null : Number(input.value);
    }
    else if (input.dataset.type === "json") body[input.name] = parsedJson(input.value);
    else body[input.name] = input.value;
  }
  return body;
}

// Empty is an empty object (which clears the setting); text that is not JSON is sent as it is,
// for the server to say what is wrong beside the field.
function parsedJson(text) {
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function describedBy(input, ids) {
  if (ids.length) input.setAttribute("aria-describedby", ids.join(" "));
  else input.removeAttribute("aria-describedby");
}

function clearErrors(form) {
  for (const node of form.querySelectorAll(".inline-error")) node.remove();
  for (const node of form.querySelectorAll("[aria-invalid]")) {
    node.removeAttribute("aria-invalid");
    const ids = (node.getAttribute("aria-describedby") || "").split(" ");
    describedBy(node, ids.filter((id) => id && id !== `${node.id}-error`));
  }
}

function showErrors(form, error) {
  const problems = error.body?.errors || [];
  let placed = false;
  for (const problem of problems) {
    const input = problem.field && form.querySelector(`[name="${problem.field}"]`);
    if (!input) continue;
    input.setAttribute("aria-invalid", "true");
    const note = document.createElement("p");
    note.className = "field-error inline-error";
    note.id = `${input.id}-error`;
    note.textContent = problem.msg || problem.message || error.message;
    const ids = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    describedBy(input, [...ids, note.id]);
    // a checkbox sits inside its label: the message goes after the label, not inside it
    const anchor = input.type === "checkbox" ? input.closest("label") || input : input;
    anchor.after(note);
    placed = true;
  }
  if (problems.some((p) => p.loc !== undefined)) showSchemaErrors(problems);
  return placed;
}

function status(form, text, kind) {
  const box = form.querySelector(".form-status");
  if (!box) return;
  box.textContent = text;
  box.className = `form-status ${kind === "error" ? "field-error" : "muted"}`;
}

async function submit(form) {
  clearErrors(form);
  const values = fieldValues(form);
  let path = form.dataset.path;
  if (form.dataset.pathTemplate) {
    path = form.dataset.pathTemplate.replace("{username}", encodeURIComponent(values.username));
    delete values.username;
  }
  const method = form.dataset.method;
  try {
    await api(method, path, method === "DELETE" ? undefined : values);
    for (const input of form.querySelectorAll("[data-send-changed]")) input.defaultValue = input.value;
    status(form, "Saved.", "ok");
    if (method !== "PATCH") setTimeout(() => window.location.reload(), 300);
  } catch (error) {
    const placed = showErrors(form, error);
    status(form, placed ? "Please correct the marked fields." : error.message, "error");
  }
}

for (const form of document.querySelectorAll("form.api-form")) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit(form);
  });
}

// Settings that only apply while a checkbox is on are disabled (and not sent) while it is off.
for (const input of document.querySelectorAll("[data-enabled-by]")) {
  const toggle = document.getElementById(input.dataset.enabledBy);
  const sync = () => { input.disabled = !toggle.checked; };
  toggle.addEventListener("change", sync);
  sync();
}

// Fractions are also shown as percentages, as they are typed.
for (const output of document.querySelectorAll("output[data-percent-of]")) {
  const input = document.getElementById(output.dataset.percentOf);
  const show = () => {
    const value = input.value === "" ? NaN : Number(input.value);
    output.textContent = Number.isFinite(value) ? `= ${Number((value * 100).toFixed(2))}%` : "";
  };
  input.addEventListener("input", show);
  show();
}

// -- schema editor ---------------------------------------------------------------------------
const schemaText = document.getElementById("schema-text");
const errorList = document.getElementById("schema-errors");
const preview = document.querySelector("accord-labeler[preview]");
let sampleItem = null;

function showSchemaErrors(problems) {
  errorList.replaceChildren(...problems.map((p) => {
    const li = document.createElement("li");
    li.textContent = p.loc ? `${p.loc}: ${p.msg}` : p.msg || p.message;
    return li;
  }));
  schemaText.setAttribute("aria-invalid", problems.length ? "true" : "false");
}

async function sample(schema) {
  if (!sampleItem) {
    const page = await api("GET", `/projects/${preview.getAttribute("project-id")}/items?limit=1`).catch(() => null);
    sampleItem = page?.items?.[0] || null;
  }
  if (sampleItem) return sampleItem;
  const data = {};
  for (const field of schema.fields) data[field.source || field.name] = "An example sentence to label.";
  return { id: 0, data, meta: {}, media: null, media_info: null };
}

let pending = null;
async function check() {
  try {
    const schema = await api("POST", "/schemas/validate", { schema: schemaText.value });
    showSchemaErrors([]);
    if (preview) {
      await customElements.whenDefined("accord-labeler");
      await preview.preview(schema, await sample(schema));
    }
  } catch (error) {
    if (error.status === 422) showSchemaErrors(error.body.errors || [{ msg: error.message }]);
  }
}

if (schemaText) {
  schemaText.addEventListener("input", () => {
    clearTimeout(pending);
    pending = setTimeout(check, 400);
  });
  check();
}

// -- images in the guidelines ------------------------------------------------------------------
// A chosen image is uploaded at once; its markdown goes where the cursor was in the guidelines,
// and the preview is refreshed as if it had been typed.
const imageInput = document.getElementById("guidelines-image");
const guidelinesText = document.getElementById("guidelines-text");

async function uploadImage(projectId, file) {
  const body = new FormData();
  body.append("file", file);
  const response = await fetch(`/api/v1/projects/${projectId}/guideline-images`, {
    method: "POST", headers: { "X-CSRF-Token": csrfToken() }, credentials: "same-origin", body,
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.detail || `${response.status} ${response.statusText}`);
  return data;
}

function insertAtCursor(textarea, text) {
  const start = textarea.selectionStart;
  const end = textarea.selectionEnd;
  textarea.value = textarea.value.slice(0, start) + text + textarea.value.slice(end);
  textarea.focus();
  textarea.setSelectionRange(start + text.length, start + text.length);
  textarea.dispatchEvent(new Event("input", { bubbles: true }));
}

if (imageInput && guidelinesText) {
  const box = imageInput.closest(".guidelines-image-upload");
  const say = (text, kind) => {
    const note = box.querySelector(".image-upload-status");
    note.textContent = text;
    note.className = `image-upload-status small ${kind === "error" ? "field-error" : "muted"}`;
  };
  imageInput.addEventListener("change", async () => {
    const file = imageInput.files[0];
    if (!file) return;
    imageInput.removeAttribute("aria-invalid");
    say(`Uploading ${file.name}…`, "ok");
    try {
      const image = await uploadImage(box.dataset.projectId, file);
      insertAtCursor(guidelinesText, image.markdown);
      say(`Inserted ${file.name}${image.created ? "" : " (already uploaded: the same image is used)"}.`, "ok");
    } catch (error) {
      imageInput.setAttribute("aria-invalid", "true");
      say(`Not uploaded: ${error.message}`, "error");
    } finally {
      imageInput.value = ""; // the same file can be chosen again
    }
  });
}
