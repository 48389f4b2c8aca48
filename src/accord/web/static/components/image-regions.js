// <accord-image-regions>: boxes, rotated boxes, polygons, keypoints or masks on one image.
// The element holds the regions (always in natural image pixels), the selection and the undo
// history; a Stage draws them, and one tool per control type turns pointer input into edits.
import { LabelingWidget, colourOf, element } from "./widget-base.js";
import { BoxTool } from "./image/box-tool.js";
import { boundsOf } from "./image/geometry.js";
import { KeypointTool } from "./image/keypoint-tool.js";
import { canvasFromRle, packedColour } from "./image/mask-raster.js";
import { MaskTool } from "./image/mask-tool.js";
import { hotkeyOf, labelButtons, regionItem, viewToolbar } from "./image/panel.js";
import { PolygonTool } from "./image/polygon-tool.js";
import { ID_PREFIX, cloneRegion, normaliseRegion, outlineOf, regionContains, serialiseRegion, translated } from "./image/regions.js";
import { drawRegion } from "./image/render.js";
import { Stage } from "./image/stage.js";
import { adoptStyles } from "./image/styles.js";
import { WHEEL_ZOOM_RATE } from "./image/viewport.js";

const TOOLS = { boxes: BoxTool, rotated_boxes: BoxTool, polygons: PolygonTool, keypoints: KeypointTool, masks: MaskTool };
const NOUNS = { boxes: "boxes", rotated_boxes: "rotated boxes", polygons: "polygons", keypoints: "keypoints", masks: "masks" };
const KEY_ZOOM = 1.25;
const KEY_PAN = 40; // stage pixels an arrow key pans by when no region is selected
const ARROWS = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
const HIT_SLACK = 4; // stage pixels of tolerance when clicking a region's edge
const UNKNOWN_LABEL_COLOUR = "#9e9e9e";

let instances = 0;

export class ImageRegionsWidget extends LabelingWidget {
  constructor() {
    super();
    this.regions = []; // value-format regions; model pre-labels carry `model: true`
    this.selectedId = null;
    this.activeIndex = 0;
    this.gesture = null;
    this.spaceHeld = false;
    this.ids = 0;
    this.loads = 0;
    this.maskCanvases = new WeakMap(); // rle -> {colour, canvas}; RLEs are immutable
    this.packedColours = new Map();
    this.pending = {}; // value and predictions given before the control
    this._ready = Promise.resolve(false);
    this.stage = new Stage((ctx) => this.drawRegions(ctx));
    this.listen(this.stage.overlay);
    this.onKeyUp = (event) => {
      if (event.type === "blur" || event.key === " ") {
        this.spaceHeld = false;
        this.setCursor("crosshair");
      }
    };
    this.statusId = `image-regions-status-${++instances}`;
  }

  connectedCallback() {
    adoptStyles();
    window.addEventListener("keyup", this.onKeyUp);
    window.addEventListener("blur", this.onKeyUp);
  }

  disconnectedCallback() {
    window.removeEventListener("keyup", this.onKeyUp);
    window.removeEventListener("blur", this.onKeyUp);
    this.stage.stop();
  }

  // ---- properties set by the page ----

  get type() {
    return this.control?.type;
  }

  get value() {
    return this.humanRegions.map((r) => serialiseRegion(this.type, r));
  }

  set value(value) {
    if (!this.control) {
      this.pending.value = value;
      return;
    }
    this.cancelDrawing();
    const models = this.regions.filter((r) => r.model);
    this.regions = [];
    for (const region of this.read(value)) this.regions.push(this.withFreeId(region));
    for (const region of models) this.regions.push(this.withFreeId(region));
    this.refresh();
  }

  // Model pre-labels: drawn dashed, listed as "model", and part of the value only once accepted.
  get predictions() {
    return this.regions.filter((r) => r.model).map((r) => serialiseRegion(this.type, r));
  }

  set predictions(result) {
    if (!this.control) {
      this.pending.predictions = result;
      return;
    }
    this.regions = this.humanRegions;
    for (const region of this.read(result)) this.regions.push({ ...this.withFreeId(region), model: true });
    this.refresh();
  }

  get src() {
    return this._src;
  }

  // A new image is a new item: its history starts empty.
  set src(url) {
    this._src = url;
    this.cancelDrawing();
    this._past = [];
    this._future = [];
    this.selectedId = null;
    this._ready = this.load(url, ++this.loads);
  }

  // Resolves to true once the current image is loaded and shown, false if it failed.
  get ready() {
    return this._ready;
  }

  get imageSize() {
    return { width: this.imageWidth, height: this.imageHeight };
  }

  set imageSize(size) {
    if (size?.width > 0 && size?.height > 0) this.stage.setImageSize(size.width, size.height);
  }

  // The current view: stage pixels per image pixel, and where the image's corner is on the stage.
  get viewTransform() {
    return { scale: this.view.scale, x: this.view.x, y: this.view.y };
  }

  // ---- state the tools work with ----

  get view() {
    return this.stage.view;
  }

  get imageWidth() {
    return this.view.imageWidth;
  }

  get imageHeight() {
    return this.view.imageHeight;
  }

  get humanRegions() {
    return this.regions.filter((r) => !r.model);
  }

  get selected() {
    return this.regions.find((r) => r.id === this.selectedId) || null;
  }

  // The selected region when the annotator may edit it (pre-labels must be accepted first).
  get editable() {
    const region = this.selected;
    return region && !region.model ? region : null;
  }

  get activeLabel() {
    return this.labels[this.activeIndex]?.value;
  }

  colourOf(label) {
    const index = this.labels.findIndex((l) => l.value === label);
    return index < 0 ? UNKNOWN_LABEL_COLOUR : colourOf(this.labels[index], index);
  }

  packedColourOf(label) {
    const colour = this.colourOf(label);
    if (!this.packedColours.has(colour)) this.packedColours.set(colour, packedColour(colour));
    return this.packedColours.get(colour);
  }

  maskCanvas(region) {
    const colour = this.packedColourOf(region.label);
    let cached = this.maskCanvases.get(region.rle);
    if (!cached || cached.colour !== colour) {
      cached = { colour, canvas: canvasFromRle(region.rle, colour) };
      this.maskCanvases.set(region.rle, cached);
    }
    return cached.canvas;
  }

  rememberMaskCanvas(rle, canvas, colour) {
    this.maskCanvases.set(rle, { colour, canvas });
  }

  read(list) {
    return (Array.isArray(list) ? list : []).map((raw) => normaliseRegion(this.type, raw)).filter(Boolean);
  }

  hasId(id) {
    return this.regions.some((r) => r.id === id);
  }

  newId() {
    let id;
    do id = `${ID_PREFIX[this.type]}${++this.ids}`; while (this.hasId(id));
    return id;
  }

  withFreeId(region) {
    return { ...region, id: region.id && !this.hasId(region.id) ? region.id : this.newId() };
  }

  // The region under image point p: human regions before pre-labels, then the smallest, so a
  // cell inside a larger box can still be picked.
  hitRegion(p) {
    const slack = HIT_SLACK / this.view.scale;
    const hits = this.regions.filter((r) => regionContains(this.type, r, p, slack));
    const size = (r) => {
      if (this.type === "masks") return r.rle.counts.reduce((sum, n, i) => sum + (i % 2 ? n : 0), 0);
      const b = boundsOf(outlineOf(this.type, r));
      return (b.right - b.left) * (b.bottom - b.top);
    };
    hits.sort((a, b) => Number(Boolean(a.model)) - Number(Boolean(b.model)) || size(a) - size(b));
    return hits[0] || null;
  }

  select(id) {
    this.selectedId = id;
    this.refresh();
  }

  selectAt(p) {
    const hit = this.hitRegion(p);
    this.select(hit?.id ?? null);
    return hit;
  }

  // ---- edits: every user edit is `before = snapshot()`, changes, then commit(before) ----

  snapshot() {
    return this.regions.map(cloneRegion);
  }

  commit(before) {
    this._past.push(before);
    this._future = [];
    this.changedValue();
  }

  addRegion(fields) {
    const region = { id: this.newId(), ...fields };
    this.regions.push(region);
    this.selectedId = region.id;
    return region;
  }

  replaceRegion(region) {
    this.regions = this.regions.map((r) => (r.id === region.id ? region : r));
    this.redraw();
  }

  removeRegion(id) {
    this.regions = this.regions.filter((r) => r.id !== id);
  }

  remove(id) {
    const before = this.snapshot();
    this.removeRegion(id);
    this.commit(before);
  }

  accept(id) {
    const region = this.regions.find((r) => r.id === id && r.model);
    if (!region) return;
    const before = this.snapshot();
    const accepted = { ...region };
    delete accepted.model;
    this.regions = this.regions.map((r) => (r === region ? accepted : r));
    this.selectedId = id;
    this.commit(before);
  }

  undo() {
    return this.travel(this._past, this._future);
  }

  redo() {
    return this.travel(this._future, this._past);
  }

  travel(from, to) {
    if (!from.length) return false;
    this.cancelDrawing();
    to.push(this.snapshot());
    this.regions = from.pop();
    this.changedValue();
    return true;
  }

  changedValue() {
    this.refresh();
    this.dispatchEvent(new CustomEvent("accord-change", {
      bubbles: true, composed: true, detail: { control: this.control.name, value: this.value },
    }));
  }

  // ---- keyboard (the page forwards keydown events here) ----

  handleKey(event) {
    if (!this.control) return false;
    const key = event.key;
    if (event.ctrlKey || event.metaKey) {
      const letter = key.toLowerCase();
      if (letter === "z" && !event.shiftKey) {
        if (!this.tool.removeLast?.()) this.undo();
        return true;
      }
      if ((letter === "z" && event.shiftKey) || letter === "y") {
        this.redo();
        return true;
      }
      return false;
    }
    if (event.altKey) return false;
    switch (key) {
      case " ":
        this.spaceHeld = true;
        this.setCursor("grab");
        return true;
      case "Escape":
        if (this.cancelDrawing()) return true;
        if (!this.selectedId) return false;
        this.select(null);
        return true;
      case "Enter":
        if (this.tool.finish?.()) return true;
        if (!this.selected?.model) return false;
        this.accept(this.selectedId);
        return true;
      case "Delete":
      case "Backspace":
        if (this.tool.removeLast?.()) return true;
        if (!this.selectedId) return false;
        this.remove(this.selectedId);
        return true;
      case "+":
      case "=":
        return this.zoom(KEY_ZOOM);
      case "-":
      case "_":
        return this.zoom(1 / KEY_ZOOM);
      case "0":
        return this.fit();
    }
    if (key in ARROWS) return this.arrow(ARROWS[key], event.shiftKey ? 10 : 1);
    if (this.tool.key?.(event)) return true;
    const index = this.labels.findIndex((l, i) => hotkeyOf(l, i).toLowerCase() === key.toLowerCase());
    if (index < 0) return false;
    this.activeIndex = index;
    this.refresh();
    return true;
  }

  // Nudges the selected region by whole image pixels, or pans when nothing is selected.
  arrow([dx, dy], step) {
    const region = this.editable;
    if (!region || this.type === "masks") {
      this.stage.panBy(-dx * KEY_PAN, -dy * KEY_PAN);
      return true;
    }
    const moved = translated(this.type, region, dx * step, dy * step, this.imageWidth, this.imageHeight);
    if (JSON.stringify(moved) === JSON.stringify(region)) return true;
    const before = this.snapshot();
    this.replaceRegion(moved);
    this.commit(before);
    return true;
  }

  zoom(factor) {
    this.stage.zoomAtCentre(factor);
    return true;
  }

  fit() {
    this.stage.fit();
    return true;
  }

  // ---- pointer ----

  listen(overlay) {
    overlay.addEventListener("pointerdown", (e) => this.onPointerDown(e));
    overlay.addEventListener("pointermove", (e) => this.onPointerMove(e));
    overlay.addEventListener("pointerup", (e) => this.onPointerUp(e));
    overlay.addEventListener("pointercancel", () => this.cancelDrawing());
    overlay.addEventListener("pointerleave", () => this.tool?.leave?.());
    overlay.addEventListener("wheel", (e) => this.onWheel(e), { passive: false });
    overlay.addEventListener("dblclick", (e) => this.onDoubleClick(e));
    overlay.addEventListener("contextmenu", (e) => e.preventDefault());
  }

  setCursor(cursor) {
    this.stage.cursor = cursor;
  }

  get interactive() {
    return Boolean(this.tool && this.imageWidth);
  }

  onPointerDown(event) {
    if (!this.interactive || this.gesture) return;
    this.focus({ preventScroll: true });
    const p = this.stage.pointer(event);
    const panning = event.button === 1 || (event.button === 0 && this.spaceHeld);
    this.pressSnapshot = this.snapshot();
    this.gesture = panning ? this.panGesture(p) : this.tool.press(p, event);
    if (!this.gesture) return;
    event.preventDefault();
    this.stage.overlay.setPointerCapture(event.pointerId);
  }

  onPointerMove(event) {
    if (!this.interactive) return;
    const p = this.stage.pointer(event);
    if (this.gesture) this.gesture.move(p, event);
    else this.setCursor(this.spaceHeld ? "grab" : this.tool.hover(p));
  }

  onPointerUp(event) {
    const gesture = this.gesture;
    if (!gesture) return;
    this.gesture = null;
    gesture.release(this.stage.pointer(event), event);
  }

  // Drops the shape being drawn and undoes what the press under way has changed so far (a
  // move or resize is only committed on release). True if there was anything to drop.
  cancelDrawing() {
    const pressed = Boolean(this.gesture);
    if (pressed) this.regions = this.pressSnapshot;
    this.gesture = null;
    const drawing = Boolean(this.tool?.cancel?.());
    if (pressed || drawing) this.refresh();
    return pressed || drawing;
  }

  onWheel(event) {
    if (!this.interactive) return;
    event.preventDefault();
    const p = this.stage.pointer(event);
    const lines = event.deltaMode === WheelEvent.DOM_DELTA_LINE ? 16 : 1;
    this.stage.zoomAt(Math.exp(-event.deltaY * lines * WHEEL_ZOOM_RATE), p.sx, p.sy);
  }

  // A double-click on a selected pre-label accepts it; tools may use it first (polygon edges).
  onDoubleClick(event) {
    if (!this.interactive) return;
    const p = this.stage.pointer(event);
    if (this.tool.dblclick?.(p)) return;
    const hit = this.hitRegion(p);
    if (hit?.model && hit.id === this.selectedId) this.accept(hit.id);
  }

  panGesture(start) {
    let last = start;
    this.setCursor("grabbing");
    return {
      move: (p) => {
        this.stage.panBy(p.sx - last.sx, p.sy - last.sy);
        last = p;
      },
      release: () => this.setCursor(this.spaceHeld ? "grab" : "crosshair"),
    };
  }

  // ---- image ----

  async load(url, token) {
    const image = new Image();
    image.decoding = "async";
    image.src = url;
    let bitmap;
    try {
      await image.decode();
      bitmap = await createImageBitmap(image);
    } catch {
      if (token === this.loads) this.announce("The image could not be loaded.");
      return false;
    }
    if (token !== this.loads) {
      bitmap.close();
      return false;
    }
    this.stage.setImage(bitmap);
    if (this.tool) this.announce(this.tool.hint());
    this.refresh();
    return true;
  }

  // ---- drawing ----

  redraw() {
    this.stage.request(false);
  }

  // Pre-labels first, so human regions are drawn over them.
  drawRegions(ctx) {
    if (!this.tool) return;
    const ordered = [...this.regions.filter((r) => r.model), ...this.humanRegions];
    for (const region of ordered) {
      drawRegion(ctx, this.view, this.type, region, {
        colour: this.colourOf(region.label),
        selected: region.id === this.selectedId,
        model: Boolean(region.model),
        skeleton: this.control.skeleton,
        maskCanvas: this.type === "masks"
          ? this.tool.canvasDuringStroke(region) || this.maskCanvas(region) : null,
      });
    }
    this.tool.drawOverlay?.(ctx);
  }

  // ---- DOM ----

  announce(text) {
    if (this.status) this.status.textContent = text;
  }

  render() {
    if (!this.control) return;
    this.tool = new TOOLS[this.type](this);
    this.tabIndex = 0;
    this.setAttribute("role", "application");
    this.setAttribute("aria-label",
      `${this.control.description || this.control.name}: ${NOUNS[this.type]} on the image`);
    this.setAttribute("aria-describedby", this.statusId);

    this.labelButtons = labelButtons(this.labels, (i) => {
      this.activeIndex = i;
      this.refresh();
    });
    const picker = element("div", { class: "label-picker", role: "toolbar", "aria-label": "Labels",
      hidden: !this.labels.length }, ...this.labelButtons);
    const tools = viewToolbar({
      zoomIn: () => this.zoom(KEY_ZOOM), zoomOut: () => this.zoom(1 / KEY_ZOOM), fit: () => this.fit(),
    }, this.tool.toolbar?.() || []);

    this.status = element("p", { class: "image-status", id: this.statusId, role: "status", "aria-live": "polite" });
    this.list = element("ul", { class: "region-list", "aria-label": "Regions" });
    this.replaceChildren(picker, tools, this.stage.root, this.status, this.list);

    const { value, predictions } = this.pending;
    this.pending = {};
    if (value !== undefined) this.value = value;
    if (predictions !== undefined) this.predictions = predictions;
    this.announce(this.tool.hint());
    this.refresh();
  }

  // Brings everything but the image layer up to date with the regions and the selection.
  refresh() {
    if (!this.list) return;
    if (!this.selected) this.selectedId = null;
    this.labelButtons.forEach((button, i) => button.setAttribute("aria-pressed", String(i === this.activeIndex)));
    this.tool.refresh?.();
    this.list.replaceChildren(...this.regions.map((region) => regionItem(region, {
      colour: this.colourOf(region.label),
      selected: region.id === this.selectedId,
      onSelect: () => this.select(region.id === this.selectedId ? null : region.id),
      onAccept: () => this.accept(region.id),
      onDelete: () => this.remove(region.id),
    })));
    this.redraw();
  }
}

customElements.define("accord-image-regions", ImageRegionsWidget);
