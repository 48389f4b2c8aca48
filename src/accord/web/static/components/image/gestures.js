// A press that becomes a drag only after the pointer has really moved, so that a slightly
// shaky click still selects instead of drawing a one-pixel box.
const CLICK_SLOP = 3; // stage pixels

export function drag(start, { move, drop, click }) {
  let moved = false;
  return {
    move(p, event) {
      if (!moved && Math.hypot(p.sx - start.sx, p.sy - start.sy) < CLICK_SLOP) return;
      moved = true;
      move?.(p, event);
    },
    release(p, event) {
      if (moved) drop?.(p, event);
      else click?.(p, event);
    },
  };
}

// Stage distance between an image point and a pointer position.
export function stageDistance(view, point, p) {
  const s = view.toStage(point.x, point.y);
  return Math.hypot(s.x - p.sx, s.y - p.sy);
}
