// The widget's HTML around the stage: label picker, view/tool toolbar and the list of regions
// (which also gives keyboard and screen-reader users every region, pre-labels included).
import { colourOf, element } from "../widget-base.js";

// Labels without a hotkey of their own answer to 1-9, in order.
export function hotkeyOf(label, index) {
  return label.hotkey || (index < 9 ? String(index + 1) : "");
}

export function labelButtons(labels, onPick) {
  return labels.map((label, i) => {
    const hotkey = hotkeyOf(label, i);
    return element("button", {
      type: "button", class: "label-button", style: `--swatch:${colourOf(label, i)}`,
      "aria-keyshortcuts": hotkey || null, onclick: () => onPick(i),
    }, element("span", { class: "swatch" }), label.value, hotkey ? element("kbd", { text: hotkey }) : "");
  });
}

export function viewToolbar({ zoomIn, zoomOut, fit }, toolButtons) {
  return element("div", { class: "image-tools", role: "toolbar", "aria-label": "View and tool" },
    element("button", { type: "button", "aria-label": "Zoom out", "aria-keyshortcuts": "-", onclick: zoomOut }, "−"),
    element("button", { type: "button", "aria-label": "Zoom in", "aria-keyshortcuts": "+", onclick: zoomIn }, "+"),
    element("button", { type: "button", "aria-keyshortcuts": "0", onclick: fit }, "Fit"),
    ...toolButtons);
}

// One row of the region list: select (toggles), accept for pre-labels, delete.
export function regionItem(region, { colour, selected, onSelect, onAccept, onDelete }) {
  const name = `${region.label ?? "unlabelled"} ${region.id}`;
  return element("li", {
    class: [selected ? "selected" : "", region.model ? "model" : ""].join(" ").trim(), "data-id": region.id,
  },
  element("button", { type: "button", class: "region-name", "aria-pressed": String(selected), onclick: onSelect },
    element("span", { class: "swatch", style: `--swatch:${colour}` }), name),
  region.model ? element("span", { class: "badge prelabel-badge", text: "model" }) : "",
  region.model ? element("button", { type: "button", class: "accept", "aria-label": `Accept ${name}`, onclick: onAccept }, "Accept") : "",
  element("button", { type: "button", class: "delete", "aria-label": `Delete ${name}`, onclick: onDelete }, "×"));
}
