// Keypoints: each click places the next named point of the current instance (the selected one
// while it still misses points, otherwise a new one); points are dragged to move them.
import { element } from "../widget-base.js";
import { clamp } from "./geometry.js";
import { drag, stageDistance } from "./gestures.js";
import { HANDLE_SIZE } from "./render.js";

export class KeypointTool {
  constructor(host) {
    this.host = host;
    this.names = (host.control.points || []).map(String);
  }

  // The instance the next click adds to, if any.
  get current() {
    const instance = this.host.editable;
    return instance && this.nextName(instance) ? instance : null;
  }

  nextName(instance) {
    return this.names.find((name) => !(name in instance.points));
  }

  get upcoming() {
    return this.current ? this.nextName(this.current) : this.names[0];
  }

  hint() {
    return `Click to place “${this.upcoming}”${this.current ? ` of ${this.current.id}` : " of a new instance"}. Drag a point to move it; Escape ends the instance.`;
  }

  pointAt(p) {
    const view = this.host.view;
    for (const region of [...this.host.humanRegions].reverse()) {
      for (const [name, point] of Object.entries(region.points)) {
        if (point && stageDistance(view, point, p) <= HANDLE_SIZE) return { region, name };
      }
    }
    return null;
  }

  hover(p) {
    return this.pointAt(p) ? "move" : "crosshair";
  }

  press(p, event) {
    if (event.button !== 0) return null;
    const host = this.host;
    const hit = this.pointAt(p);
    if (hit) {
      host.select(hit.region.id);
      return this.pointGesture(hit.region, hit.name, p);
    }
    return drag(p, {
      click: (q) => {
        const model = host.hitRegion(q);
        if (model?.model) host.select(model.id);
        else this.place(q);
      },
    });
  }

  place(p) {
    const host = this.host;
    const point = { x: clamp(p.x, 0, host.imageWidth), y: clamp(p.y, 0, host.imageHeight) };
    const before = host.snapshot();
    const instance = this.current;
    if (instance) {
      host.replaceRegion({ ...instance, points: { ...instance.points, [this.nextName(instance)]: point } });
    } else {
      const fields = { points: { [this.names[0]]: point } };
      if (host.labels.length) fields.label = host.activeLabel;
      host.addRegion(fields);
    }
    host.commit(before);
    host.announce(this.hint());
  }

  // Marks the next point as not visible (null), so the following click places the one after.
  skip() {
    const instance = this.current;
    if (!instance) return false;
    const before = this.host.snapshot();
    this.host.replaceRegion({ ...instance, points: { ...instance.points, [this.nextName(instance)]: null } });
    this.host.commit(before);
    this.host.announce(this.hint());
    return true;
  }

  pointGesture(instance, name, start) {
    const host = this.host;
    const before = host.snapshot();
    let changed = false;
    return drag(start, {
      move: (p) => {
        const point = { x: clamp(p.x, 0, host.imageWidth), y: clamp(p.y, 0, host.imageHeight) };
        host.replaceRegion({ ...instance, points: { ...instance.points, [name]: point } });
        changed = true;
      },
      drop: () => changed && host.commit(before),
    });
  }

  toolbar() {
    this.nextLabel = element("span", { class: "image-next-point", "aria-live": "polite" });
    return [this.nextLabel, element("button", {
      type: "button", onclick: () => this.skip(), title: "Mark the next point as not visible",
    }, "Skip point")];
  }

  refresh() {
    if (this.nextLabel) this.nextLabel.textContent = `Next point: ${this.upcoming}`;
  }
}
