// The user's prompts on the current image: points with labels, and boxes. Each mode keeps its
// own, so switching modes and back loses nothing.

/** Points and boxes in image pixels, as the worker's `points()` and `boxes()` take them. */
export class Prompts {
  /** `[x, y]` image pixels. */
  points = [];
  /** 1 = object, 0 = background, one per point. */
  labels = [];
  /** `[x1, y1, x2, y2]` image pixels. */
  boxes = [];

  /**
   * @param {[number, number]} point
   * @param {boolean} positive
   */
  addPoint(point, positive) {
    this.points.push(point);
    this.labels.push(positive ? 1 : 0);
  }

  /** @param {[number, number, number, number]} corners any two opposite corners */
  addBox([x1, y1, x2, y2]) {
    this.boxes.push([Math.min(x1, x2), Math.min(y1, y2), Math.max(x1, x2), Math.max(y1, y2)]);
  }

  /** Removes the latest point ("points") or box ("box"). */
  undo(mode) {
    if (mode === "points") {
      this.points.pop();
      this.labels.pop();
    } else if (mode === "box") {
      this.boxes.pop();
    }
  }

  /** Removes the points ("points") or boxes ("box"). */
  clear(mode) {
    if (mode === "points") {
      this.points = [];
      this.labels = [];
    } else if (mode === "box") {
      this.boxes = [];
    }
  }

  /** Whether `mode` has any prompt to run. */
  has(mode) {
    return mode === "points" ? this.points.length > 0 : mode === "box" ? this.boxes.length > 0 : false;
  }
}
