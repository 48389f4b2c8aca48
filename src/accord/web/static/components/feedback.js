// Questions, flags and guideline examples in the browser, all through the REST API:
//   <accord-ask>                the labeling page's "Flag / ask" action on the shown item
//   <accord-guideline-examples> examples and counter-examples in the guidelines panel
//   <accord-thread>             a thread page: reply, resolve/reopen, make a guideline example
//   <accord-suspect-example>    the quality page: an edge case to the guidelines in one step
// Item content and everyone's words are only ever inserted as text.
import { api } from "../app.js";
import { element } from "./widget-base.js";

const KIND_NAMES = { example: "Example", counter_example: "Counter-example" };

function say(box, text, kind = "info", link = null) {
  box.replaceChildren(element("p", { class: `notice ${kind}` }, text,
    link ? " " : "", link ? element("a", { href: link.href, text: link.text }) : ""));
}

class Ask extends HTMLElement {
  connectedCallback() {
    this.projectId = Number(this.getAttribute("project-id"));
    this.itemId = null;
    document.addEventListener("accord-item-shown", (event) => this.follow(event.detail.itemId));
    const shown = document.querySelector("accord-labeler")?.dataset.itemId;
    this.button = element("button", { type: "button", class: "ask-button", onclick: () => this.open() }, "Flag / ask");
    this.status = element("div", { class: "ask-status", role: "status", "aria-live": "polite" });
    this.dialog = this.buildDialog();
    this.replaceChildren(this.button, this.status, this.dialog);
    this.follow(shown ? Number(shown) : null);
  }

  follow(itemId) {
    this.itemId = itemId || null;
    this.aboutLabel.textContent = this.itemId ? `about item #${this.itemId}` : "about this item";
    this.about.disabled = !this.itemId;
    this.about.checked = Boolean(this.itemId);
  }

  buildDialog() {
    this.kind = element("select", { id: "ask-kind", name: "kind" },
      element("option", { value: "question", text: "Ask a question" }),
      element("option", { value: "flag", text: "Flag a problem with the item" }));
    this.about = element("input", { type: "checkbox", id: "ask-about", checked: true });
    this.aboutLabel = element("label", { for: "ask-about", text: "about this item" });
    this.titleInput = element("input", { id: "ask-title", name: "title", required: true, maxlength: "300" });
    this.bodyInput = element("textarea", { id: "ask-body", name: "body", rows: "4", required: true });
    this.error = element("div", { class: "ask-error", role: "alert" });
    const form = element("form", { class: "ask-form", method: "dialog" },
      element("h2", { id: "ask-dialog-title", text: "Flag or ask" }),
      element("p", {}, element("label", { for: "ask-kind", text: "What " }), this.kind),
      element("p", {}, this.about, " ", this.aboutLabel),
      element("p", {}, element("label", { for: "ask-title", text: "Title" }), this.titleInput),
      element("p", {}, element("label", { for: "ask-body", text: "Your question or what is wrong" }), this.bodyInput),
      this.error,
      element("p", { class: "inline-form" },
        element("button", { type: "submit", class: "primary ask-send", text: "Send" }),
        element("button", { type: "button", text: "Cancel", onclick: () => this.dialog.close() })));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.send();
    });
    // Keys typed here are not labeling shortcuts.
    form.addEventListener("keydown", (event) => event.stopPropagation());
    return element("dialog", { class: "ask-dialog", "aria-labelledby": "ask-dialog-title" }, form);
  }

  open() {
    this.error.replaceChildren();
    this.dialog.showModal();
    this.titleInput.focus();
  }

  async send() {
    const body = { kind: this.kind.value, title: this.titleInput.value.trim(), body: this.bodyInput.value.trim() };
    if (this.about.checked && this.itemId) body.item_id = this.itemId;
    try {
      const thread = await api("POST", `/projects/${this.projectId}/threads`, body);
      this.dialog.close();
      this.titleInput.value = "";
      this.bodyInput.value = "";
      say(this.status, thread.kind === "flag" ? "Flag sent." : "Question sent; the answer will be on the Questions page.",
        "ok", { href: `/projects/${this.projectId}/questions/${thread.id}`, text: "See it" });
    } catch (error) {
      say(this.error, error.message, "error");
    }
  }
}

function describe(value) {
  if (Array.isArray(value)) return value.map(describe).join(", ");
  if (value && typeof value === "object") {
    if ("label" in value) return String(value.label);
    if ("labels" in value) return describe(value.labels);
    return JSON.stringify(value);
  }
  return String(value);
}

class GuidelineExamples extends HTMLElement {
  async connectedCallback() {
    this.projectId = Number(this.getAttribute("project-id"));
    const schemaNode = document.getElementById("accord-schema");
    this.fields = schemaNode ? JSON.parse(schemaNode.textContent).fields : [];
    await this.load();
  }

  async load() {
    let examples;
    try {
      examples = await api("GET", `/projects/${this.projectId}/guideline-examples`);
    } catch (error) {
      this.replaceChildren(element("p", { class: "notice error", text: error.message }));
      return;
    }
    if (!examples.length) {
      this.replaceChildren();
      return;
    }
    const sections = new Map();
    for (const example of examples) {
      const name = example.section || "";
      if (!sections.has(name)) sections.set(name, []);
      sections.get(name).push(example);
    }
    const blocks = [element("h3", { class: "examples-title", text: "Examples" })];
    for (const [name, list] of sections) {
      blocks.push(element("section", { class: "example-section", "data-section": name },
        name ? element("h4", { text: name }) : "",
        element("ul", { class: "example-list" }, ...list.map((e) => this.renderExample(e)))));
    }
    this.replaceChildren(...blocks);
  }

  renderExample(example) {
    const parts = [element("span", { class: `badge example-kind ${example.kind}`, text: KIND_NAMES[example.kind] || example.kind })];
    if (example.item) parts.push(this.renderItem(example.item));
    if (example.result && Object.keys(example.result).length) {
      parts.push(element("p", { class: "example-answer" },
        example.kind === "counter_example" ? "Not: " : "Answer: ",
        ...Object.entries(example.result).map(([control, value], i) =>
          element("span", {}, i ? "; " : "", element("strong", { text: control }), ` ${describe(value)}`))));
    }
    if (example.note) parts.push(element("p", { class: "example-note", text: example.note }));
    return element("li", { class: `guideline-example ${example.kind}`, "data-example": String(example.id) }, ...parts);
  }

  renderItem(item) {
    const box = element("div", { class: "example-item" });
    for (const field of this.fields) {
      const value = item.data?.[field.source || field.name];
      if (field.type === "image") {
        const src = typeof value === "string" && /^(https?:|data:)/.test(value) ? value
          : `/api/v1/projects/${this.projectId}/items/${item.id}/media`;
        box.append(element("img", { class: "example-thumb", src, alt: `${field.name} of item ${item.id}`, loading: "lazy" }));
      } else if (value !== undefined && value !== null) {
        const text = typeof value === "string" ? value : JSON.stringify(value);
        box.append(element("blockquote", { class: "example-text", text }));
      }
    }
    return box;
  }
}

class ThreadView extends HTMLElement {
  connectedCallback() {
    this.projectId = Number(this.getAttribute("project-id"));
    this.threadId = Number(this.getAttribute("thread-id"));
    this.base = `/projects/${this.projectId}/threads/${this.threadId}`;
    this.feedback = this.querySelector(".thread-feedback");
    this.querySelector(".reply-form")?.addEventListener("submit", (event) => {
      event.preventDefault();
      this.reply(event.target);
    });
    this.querySelector(".toggle-status")?.addEventListener("click", () => this.toggle());
    this.querySelector(".example-form")?.addEventListener("submit", (event) => {
      event.preventDefault();
      this.makeExample(event.target);
    });
  }

  async reply(form) {
    const body = form.elements.body.value.trim();
    if (!body) return;
    try {
      await api("POST", `${this.base}/messages`, { body });
      window.location.reload();
    } catch (error) {
      say(this.feedback, error.message, "error");
    }
  }

  async toggle() {
    const resolved = this.getAttribute("status") === "resolved";
    try {
      await api("POST", `${this.base}/${resolved ? "reopen" : "resolve"}`);
      window.location.reload();
    } catch (error) {
      say(this.feedback, error.message, "error");
    }
  }

  async makeExample(form) {
    const box = this.querySelector(".example-feedback");
    const result = {};
    for (const select of form.querySelectorAll("select[data-control]")) {
      if (select.value) result[select.dataset.control] = select.value;
    }
    const body = { kind: form.elements.kind.value, section: form.elements.section.value, note: form.elements.note.value };
    if (Object.keys(result).length) body.result = result;
    try {
      const example = await api("POST", `${this.base}/example`, body);
      say(box, `Added to the guidelines as ${KIND_NAMES[example.kind].toLowerCase()} #${example.id}.`, "ok");
    } catch (error) {
      say(box, error.message, "error");
    }
  }
}

class SuspectExample extends HTMLElement {
  connectedCallback() {
    this.projectId = Number(this.getAttribute("project-id"));
    const itemId = Number(this.getAttribute("item-id"));
    const control = this.getAttribute("control");
    const given = this.getAttribute("label");
    const suggested = this.getAttribute("suggested");
    const kind = element("select", { "aria-label": `kind of example for item ${itemId}` },
      element("option", { value: "example", text: "example" }),
      element("option", { value: "counter_example", text: "counter-example" }));
    const labels = [...new Set([suggested, given].filter(Boolean))];
    const label = element("select", { "aria-label": `label shown for item ${itemId}` },
      ...labels.map((l) => element("option", { value: l, text: l })));
    const section = element("input", { size: "10", placeholder: "section", "aria-label": `guideline section for item ${itemId}` });
    const status = element("span", { class: "suspect-example-status", role: "status", "aria-live": "polite" });
    const button = element("button", { type: "submit", text: "Add to guidelines" });
    const form = element("form", { class: "inline-form suspect-example-form" }, kind, label, section, button, status);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      button.disabled = true;
      try {
        const example = await api("POST", `/projects/${this.projectId}/guideline-examples/from-suspect`, {
          item_id: itemId, control, kind: kind.value, label: label.value, section: section.value,
        });
        status.replaceChildren(element("span", { class: "badge done", text: `added (#${example.id})` }));
      } catch (error) {
        status.replaceChildren(element("span", { class: "notice error", text: error.message }));
      } finally {
        button.disabled = false;
      }
    });
    this.replaceChildren(form);
  }
}

customElements.define("accord-ask", Ask);
customElements.define("accord-guideline-examples", GuidelineExamples);
customElements.define("accord-thread", ThreadView);
customElements.define("accord-suspect-example", SuspectExample);
