// Masks: paint with a round brush, erase with `e`, brush size with [ and ]. A stroke adds to
// the selected mask when it has the active label, otherwise it starts a new mask; erasing works
// on the selected mask, or on the mask under the pointer. Each stroke is one undo step.
import { element } from "../widget-base.js";
import { cacheCanvas, decodeRle, encodeRle, hasForeground, refreshCanvas, stampSegment } from "./mask-raster.js";
import { drag } from "./gestures.js";
import { drawRegion } from "./render.js";

const BRUSH_STEP = 1.25;

export class MaskTool {
  constructor(host) {
    this.host = host;
    this.chosenBrush = null; // diameter in image pixels once the annotator changes it
    this.erasing = false;
    this.stroke = null; // {region, bits, canvas, colour, last}
    this.pointer = null;
    this.decoded = null; // {rle, bits}: the last mask decoded, reused by the next stroke on it
  }

  // Until the annotator picks a size, the brush scales with the image so it stays usable on
  // very large ones.
  get brush() {
    return this.chosenBrush ?? Math.max(16, Math.round(Math.max(this.host.imageWidth, this.host.imageHeight) / 40));
  }

  hint() {
    return `${this.erasing ? "Eraser" : "Brush"} ${Math.round(this.brush)} px: drag to ${this.erasing ? "erase" : "paint"}. E switches brush/eraser, [ and ] change the size, Alt-click selects a mask.`;
  }

  hover(p) {
    this.pointer = p;
    this.host.redraw();
    return "none";
  }

  leave() {
    this.pointer = null;
    this.host.redraw();
  }

  // The mask a paint stroke adds to; null starts a new one.
  paintTarget() {
    const selected = this.host.editable;
    return selected && selected.label === this.host.activeLabel ? selected : null;
  }

  // The mask an eraser stroke at p works on, if any.
  eraseTarget(p) {
    const hit = this.host.editable || this.host.hitRegion(p);
    return hit && !hit.model ? hit : null;
  }

  press(p, event) {
    const host = this.host;
    if (event.button !== 0) return null;
    if (event.altKey) return drag(p, { click: (q) => host.selectAt(q) });
    const region = this.erasing ? this.eraseTarget(p) : this.paintTarget();
    if (this.erasing && !region) {
      host.announce("Nothing to erase here: select a mask first.");
      return null;
    }
    const { imageWidth: width, imageHeight: height } = host;
    const canvas = cacheCanvas(width, height);
    if (region) canvas.getContext("2d").drawImage(host.maskCanvas(region), 0, 0);
    const bits = region
      ? this.decoded?.rle === region.rle ? this.decoded.bits : decodeRle(region.rle)
      : new Uint8Array(width * height);
    this.stroke = { region, bits, canvas, last: p, colour: host.packedColourOf(region ? region.label : host.activeLabel) };
    this.paintTo(p);
    return { move: (q) => this.paintTo(q), release: () => this.finish() };
  }

  paintTo(p) {
    const { imageWidth: width, imageHeight: height } = this.host;
    const stroke = this.stroke;
    const changed = stampSegment(stroke.bits, width, height, stroke.last, p, this.brush / 2, this.erasing ? 0 : 1);
    if (changed) refreshCanvas(stroke.canvas, stroke.bits, width, height, changed, stroke.colour);
    stroke.last = p;
    this.pointer = p;
    this.host.redraw();
  }

  finish() {
    const host = this.host;
    const { region, bits, canvas, colour } = this.stroke;
    this.stroke = null;
    const rle = encodeRle(bits, host.imageWidth, host.imageHeight);
    this.decoded = { rle, bits };
    const before = host.snapshot();
    if (hasForeground(rle)) {
      if (region) host.replaceRegion({ ...region, rle });
      else host.addRegion({ label: host.activeLabel, rle });
      host.rememberMaskCanvas(rle, canvas, colour);
    } else if (region) {
      host.removeRegion(region.id);
    } else {
      host.redraw();
      return;
    }
    host.commit(before);
  }

  cancel() {
    if (!this.stroke) return false;
    // The stroke has already changed these bits: they no longer match the RLE they came from.
    if (this.decoded?.bits === this.stroke.bits) this.decoded = null;
    this.stroke = null;
    return true;
  }

  // While a stroke is under way its own canvas stands in for the mask's cached one.
  canvasDuringStroke(region) {
    return this.stroke && this.stroke.region?.id === region.id ? this.stroke.canvas : null;
  }

  key(event) {
    if (event.key === "e" || event.key === "E") this.erasing = !this.erasing;
    else if (event.key === "[") this.chosenBrush = Math.max(1, this.brush / BRUSH_STEP);
    else if (event.key === "]") this.chosenBrush = Math.min(1000, this.brush * BRUSH_STEP);
    else return false;
    this.refresh();
    this.host.announce(this.hint());
    this.host.redraw();
    return true;
  }

  toolbar() {
    this.modeButton = element("button", {
      type: "button", "aria-pressed": "false", "aria-keyshortcuts": "E",
      onclick: () => this.key({ key: "e" }),
    }, "Eraser");
    this.sizeLabel = element("span", { class: "image-brush-size" });
    return [this.modeButton,
      element("button", { type: "button", "aria-label": "Smaller brush", "aria-keyshortcuts": "[", onclick: () => this.key({ key: "[" }) }, "−"),
      this.sizeLabel,
      element("button", { type: "button", "aria-label": "Larger brush", "aria-keyshortcuts": "]", onclick: () => this.key({ key: "]" }) }, "+")];
  }

  refresh() {
    this.modeButton?.setAttribute("aria-pressed", String(this.erasing));
    if (this.sizeLabel) this.sizeLabel.textContent = `Brush ${Math.round(this.brush)} px`;
  }

  drawOverlay(ctx) {
    const host = this.host;
    if (this.stroke && !this.stroke.region) {
      drawRegion(ctx, host.view, "masks", null, { maskCanvas: this.stroke.canvas, selected: true });
    }
    if (!this.pointer) return;
    ctx.save();
    ctx.beginPath();
    ctx.arc(this.pointer.sx, this.pointer.sy, Math.max(1, (this.brush / 2) * host.view.scale), 0, Math.PI * 2);
    ctx.strokeStyle = "#fff";
    ctx.lineWidth = 3;
    ctx.stroke();
    ctx.strokeStyle = this.erasing ? "#000" : host.colourOf(host.activeLabel);
    ctx.setLineDash(this.erasing ? [3, 3] : []);
    ctx.lineWidth = 1.5;
    ctx.stroke();
    ctx.restore();
  }
}
