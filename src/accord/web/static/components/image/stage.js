// The drawing surface: an image canvas under a region canvas, sized to the stage element and
// drawn at most once per animation frame. The image canvas is redrawn only when the view moves,
// so editing regions never re-rasterises a large image.
import { element } from "../widget-base.js";
import { Viewport } from "./viewport.js";

const BACKGROUND = "#20242b";
const CRISP_FROM_SCALE = 2; // zoomed in this far, show pixel edges rather than a blur

export class Stage {
  // drawRegions(ctx) paints the region layer; ctx is in stage (CSS) pixels.
  constructor(drawRegions) {
    this.drawRegions = drawRegions;
    this.view = new Viewport();
    this.fitted = true; // follow resizes with "fit to view" until the annotator zooms or pans
    this.bitmap = null;
    this.dpr = 1;
    this.frame = 0;
    this.imageDirty = false;
    this.imageLayer = element("canvas", { class: "image-layer", "aria-hidden": "true" });
    this.overlay = element("canvas", { class: "region-layer", "aria-hidden": "true" });
    this.imageContext = this.imageLayer.getContext("2d", { alpha: false });
    this.overlayContext = this.overlay.getContext("2d");
    this.root = element("div", { class: "image-stage" }, this.imageLayer, this.overlay);
    new ResizeObserver(() => this.measure()).observe(this.root);
  }

  setImage(bitmap) {
    this.bitmap?.close();
    this.bitmap = bitmap;
    this.setImageSize(bitmap.width, bitmap.height);
  }

  setImageSize(width, height) {
    this.view.imageWidth = width;
    this.view.imageHeight = height;
    this.fit();
  }

  fit() {
    this.view.fit();
    this.fitted = true;
    this.request(true);
  }

  zoomAt(factor, sx, sy) {
    this.view.zoomAt(factor, sx, sy);
    this.moved();
  }

  zoomAtCentre(factor) {
    this.view.zoomAtCentre(factor);
    this.moved();
  }

  panBy(dx, dy) {
    this.view.panBy(dx, dy);
    this.moved();
  }

  moved() {
    this.fitted = false;
    this.request(true);
  }

  // A pointer event's position on the stage and in image pixels.
  pointer(event) {
    const rect = this.overlay.getBoundingClientRect();
    const sx = event.clientX - rect.left;
    const sy = event.clientY - rect.top;
    return { sx, sy, ...this.view.toImage(sx, sy) };
  }

  set cursor(cursor) {
    this.overlay.style.cursor = cursor;
  }

  request(image) {
    this.imageDirty ||= image;
    if (!this.frame) this.frame = requestAnimationFrame(() => this.draw());
  }

  stop() {
    cancelAnimationFrame(this.frame);
    this.frame = 0;
  }

  measure() {
    const { width, height } = this.root.getBoundingClientRect();
    this.dpr = window.devicePixelRatio || 1;
    for (const canvas of [this.imageLayer, this.overlay]) {
      canvas.width = Math.round(width * this.dpr);
      canvas.height = Math.round(height * this.dpr);
    }
    this.view.resize(width, height, this.fitted);
    // Resizing cleared both canvases: draw now rather than show an empty frame.
    this.stop();
    this.imageDirty = true;
    this.draw();
  }

  draw() {
    this.frame = 0;
    if (this.imageDirty) this.drawImage();
    this.imageDirty = false;
    const ctx = this.overlayContext;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, this.overlay.width, this.overlay.height);
    if (!this.view.imageWidth) return;
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    this.drawRegions(ctx);
  }

  drawImage() {
    const ctx = this.imageContext;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = BACKGROUND;
    ctx.fillRect(0, 0, this.imageLayer.width, this.imageLayer.height);
    if (!this.bitmap) return;
    const { scale, x, y } = this.view;
    const d = this.dpr;
    ctx.imageSmoothingEnabled = scale < CRISP_FROM_SCALE;
    ctx.setTransform(d * scale, 0, 0, d * scale, d * x, d * y);
    ctx.drawImage(this.bitmap, 0, 0);
  }
}
