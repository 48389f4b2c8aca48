// Shows an item's fields. Item content is always inserted as text; html fields go into a
// sandboxed frame that runs no script; media is fetched through the API's media endpoint.
import { element } from "./widget-base.js";

export function fieldValue(field, item) {
  return item.data?.[field.source || field.name];
}

export function mediaUrl(projectId, item, value) {
  if (typeof value === "string" && /^(https?:|data:)/.test(value)) return value;
  return `/api/v1/projects/${projectId}/items/${item.id}/media`;
}

export function renderField(field, item, projectId) {
  const value = fieldValue(field, item);
  const box = element("section", { class: `field field-${field.type}`, "aria-label": field.name });
  switch (field.type) {
    case "text":
      box.append(element("div", { class: "item-text", text: value == null ? "" : String(value) }));
      break;
    case "html":
      box.append(element("iframe", {
        class: "field-html", sandbox: "", title: field.name, srcdoc: String(value ?? ""),
      }));
      break;
    case "image":
      box.append(element("img", { src: mediaUrl(projectId, item, value), alt: field.name }));
      break;
    case "audio":
      box.append(element("audio", { controls: true, src: mediaUrl(projectId, item, value) }));
      break;
    case "video":
      box.append(element("video", { controls: true, src: mediaUrl(projectId, item, value) }));
      break;
    case "dialogue":
      box.append(renderDialogue(value));
      break;
    case "timeseries":
      box.append(renderSeries(value));
      break;
    default:
      box.append(element("pre", { class: "json", text: JSON.stringify(value, null, 2) }));
  }
  return box;
}

function renderDialogue(turns) {
  const list = element("ol", { class: "dialogue" });
  for (const turn of Array.isArray(turns) ? turns : []) {
    const speaker = typeof turn === "object" ? turn.speaker ?? turn.role ?? "" : "";
    const text = typeof turn === "object" ? turn.text ?? turn.content ?? "" : String(turn);
    list.append(element("li", {}, element("strong", { text: speaker ? `${speaker}: ` : "" }),
      element("span", { class: "cell-text", text: String(text) })));
  }
  return list;
}

// A line chart of one series (a list of numbers, or {values: [...]}), drawn as SVG.
function renderSeries(value) {
  const values = (Array.isArray(value) ? value : value?.values || []).map(Number).filter(Number.isFinite);
  const width = 800;
  const height = 160;
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("class", "series");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `time series of ${values.length} points`);
  if (values.length > 1) {
    const low = Math.min(...values);
    const span = Math.max(...values) - low || 1;
    const points = values.map((v, i) =>
      `${(i / (values.length - 1)) * width},${height - ((v - low) / span) * (height - 10) - 5}`);
    const line = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
    line.setAttribute("points", points.join(" "));
    line.setAttribute("fill", "none");
    line.setAttribute("stroke", "currentColor");
    svg.append(line);
  }
  return svg;
}
