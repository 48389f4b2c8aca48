// The mapping between natural image pixels and stage (CSS) pixels: a uniform scale and an
// offset. Regions are always kept in image pixels; only drawing and pointer input go through here.

const MIN_ZOOM_OF_FIT = 0.25; // how far out one may zoom, relative to "fit to view"
const MAX_SCALE = 40; // stage pixels per image pixel when fully zoomed in
export const WHEEL_ZOOM_RATE = 0.002; // zoom factor = exp(-deltaY * rate), per wheel event

export class Viewport {
  constructor() {
    this.scale = 1;
    this.x = 0; // stage position of the image's top-left corner
    this.y = 0;
    this.stageWidth = 0;
    this.stageHeight = 0;
    this.imageWidth = 0;
    this.imageHeight = 0;
  }

  toImage(sx, sy) {
    return { x: (sx - this.x) / this.scale, y: (sy - this.y) / this.scale };
  }

  toStage(x, y) {
    return { x: this.x + x * this.scale, y: this.y + y * this.scale };
  }

  get fitScale() {
    if (!this.imageWidth || !this.imageHeight || !this.stageWidth || !this.stageHeight) return 1;
    return Math.min(this.stageWidth / this.imageWidth, this.stageHeight / this.imageHeight);
  }

  fit() {
    this.scale = this.fitScale;
    this.x = (this.stageWidth - this.imageWidth * this.scale) / 2;
    this.y = (this.stageHeight - this.imageHeight * this.scale) / 2;
  }

  // Zooms so that the image point under (sx, sy) stays under it.
  zoomAt(factor, sx, sy) {
    const limited = Math.min(MAX_SCALE, Math.max(this.fitScale * MIN_ZOOM_OF_FIT, this.scale * factor));
    const anchor = this.toImage(sx, sy);
    this.scale = limited;
    this.x = sx - anchor.x * limited;
    this.y = sy - anchor.y * limited;
  }

  zoomAtCentre(factor) {
    this.zoomAt(factor, this.stageWidth / 2, this.stageHeight / 2);
  }

  panBy(dx, dy) {
    this.x += dx;
    this.y += dy;
  }

  // Keeps the fitted view when the stage is resized, and the current one (re-anchored on the
  // stage centre) once the annotator has zoomed or panned.
  resize(width, height, keepFit) {
    const centre = this.toImage(this.stageWidth / 2, this.stageHeight / 2);
    this.stageWidth = width;
    this.stageHeight = height;
    if (keepFit) {
      this.fit();
    } else {
      this.x = width / 2 - centre.x * this.scale;
      this.y = height / 2 - centre.y * this.scale;
    }
  }
}
