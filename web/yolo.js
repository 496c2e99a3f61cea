// The arithmetic that must match detect.py: ultralytics' letterbox (OpenCV's INTER_LINEAR resize, grey 114
// padding, centred) and its post-processing (best class per anchor, conf > threshold, NMS across classes as
// detect.py's default agnostic NMS: one face, one box; `agnostic: false` for per class), boxes
// scaled back to the image). Pure functions on arrays, no DOM, so the page, a worker or Node can use them.

const COEF_BITS = 11; // OpenCV's fixed-point resize: weights in 1/2048, two passes, rounded as cv::resize rounds
const COEF_SCALE = 1 << COEF_BITS;
const PAD = 114; // ultralytics' letterbox grey
const MAX_NMS = 30000; // boxes considered by NMS, highest scores first

/** Python's round(): halves to even (ultralytics computes sizes and padding with it). */
export function pyRound(x) {
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** cvRound on a float: nearest, halves to even (saturate_cast<short> of the weights). */
function cvRound(x) {
  const f = Math.floor(x);
  const d = x - f;
  return d > 0.5 || (d === 0.5 && f % 2 !== 0) ? f + 1 : f;
}

/** Source index pairs and fixed-point weights for one axis of cv::resize(INTER_LINEAR). Along x the edge
 * positions are clamped with weight 0, along y the rows are clamped but the weights kept, as OpenCV does. */
function axis(src, dst, clampWeights) {
  const scale = 1 / (dst / src);
  const i0 = new Int32Array(dst);
  const i1 = new Int32Array(dst);
  const w0 = new Int32Array(dst);
  const w1 = new Int32Array(dst);
  for (let d = 0; d < dst; d++) {
    let f = Math.fround((d + 0.5) * scale - 0.5);
    let s = Math.floor(f);
    f = Math.fround(f - s);
    if (clampWeights && s < 0) [f, s] = [0, 0];
    if (clampWeights && s >= src - 1) [f, s] = [0, src - 1];
    i0[d] = Math.min(Math.max(s, 0), src - 1);
    i1[d] = Math.min(Math.max(s + 1, 0), src - 1);
    w0[d] = cvRound(Math.fround(Math.fround(1 - f) * COEF_SCALE));
    w1[d] = cvRound(Math.fround(f * COEF_SCALE));
  }
  return { i0, i1, w0, w1 };
}

/** The letterbox of ultralytics' LetterBox(auto=False, center=True) for a fixed-size model: the scale, the
 * resized size and the padding, all rounded with Python's round. */
export function letterboxGeometry(width, height, inW, inH) {
  const r = Math.min(inH / height, inW / width);
  const newW = Math.max(pyRound(width * r), 1);
  const newH = Math.max(pyRound(height * r), 1);
  const left = pyRound((inW - newW) / 2 - 0.1);
  const top = pyRound((inH - newH) / 2 - 0.1);
  return { width, height, inW, inH, newW, newH, left, top };
}

/** RGBA pixels (ImageData.data) of a width x height image -> the model input: float32 CHW RGB in 0-1,
 * resized exactly as cv2.resize(INTER_LINEAR) on uint8 and padded with 114. */
export function letterbox(rgba, width, height, inW, inH) {
  const g = letterboxGeometry(width, height, inW, inH);
  const plane = inW * inH;
  const out = new Float32Array(3 * plane).fill(PAD / 255);
  const xs = axis(width, g.newW, true);
  const ys = axis(height, g.newH, false);
  const rowCache = new Map(); // source row -> horizontally resized row (3 ints per output pixel)
  const hrow = (sy) => {
    let row = rowCache.get(sy);
    if (row) return row;
    row = new Int32Array(g.newW * 3);
    const base = sy * width * 4;
    for (let x = 0; x < g.newW; x++) {
      const p0 = base + xs.i0[x] * 4;
      const p1 = base + xs.i1[x] * 4;
      for (let c = 0; c < 3; c++) row[x * 3 + c] = rgba[p0 + c] * xs.w0[x] + rgba[p1 + c] * xs.w1[x];
    }
    if (rowCache.size > 4) rowCache.delete(rowCache.keys().next().value);
    rowCache.set(sy, row);
    return row;
  };
  for (let y = 0; y < g.newH; y++) {
    const r0 = hrow(ys.i0[y]);
    const r1 = hrow(ys.i1[y]);
    const b0 = ys.w0[y];
    const b1 = ys.w1[y];
    const offset = (y + g.top) * inW + g.left;
    for (let x = 0; x < g.newW; x++) {
      for (let c = 0; c < 3; c++) {
        // OpenCV's VResizeLinear for uint8, on 32-bit ints as there (the products stay below 2^27)
        const v = (((b0 * (r0[x * 3 + c] >> 4)) >> 16) + ((b1 * (r1[x * 3 + c] >> 4)) >> 16) + 2) >> 2;
        out[c * plane + offset + x] = Math.min(Math.max(v, 0), 255) / 255;
      }
    }
  }
  return { data: out, geometry: g };
}

/** IoU of two [x1, y1, x2, y2] boxes. */
export function iou(a, b) {
  const w = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const h = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const inter = w * h;
  const union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return union > 0 ? inter / union : 0;
}

/** ultralytics' non_max_suppression (multi_label=False, agnostic=False) and scale_boxes on a YOLOv5u/v8
 * output of dims [1, 4 + nc, N] (xywh in input pixels, then class scores). Returns detections in image
 * pixels, highest confidence first: {box: [x1, y1, x2, y2], conf, cls}. */
export function postprocess(
  output,
  dims,
  geometry,
  { conf = 0.25, iou: iouThres = 0.45, maxDet = 300, agnostic = true } = {},
) {
  if (dims.length !== 3 || dims[0] !== 1 || dims[1] < 5) {
    throw new Error(`unexpected model output of shape [${dims.join(", ")}]; expected [1, 4 + classes, anchors]`);
  }
  const [, channels, n] = dims;
  const nc = channels - 4;
  const candidates = [];
  for (let i = 0; i < n; i++) {
    let best = -Infinity;
    let cls = 0;
    for (let c = 0; c < nc; c++) {
      const s = output[(4 + c) * n + i];
      if (s > best) [best, cls] = [s, c];
    }
    if (!(best > conf)) continue;
    const x = output[i];
    const y = output[n + i];
    const w = output[2 * n + i] / 2;
    const h = output[3 * n + i] / 2;
    candidates.push({ box: [x - w, y - h, x + w, y + h], conf: best, cls });
  }
  candidates.sort((a, b) => b.conf - a.conf);
  candidates.length = Math.min(candidates.length, MAX_NMS);
  const kept = [];
  const suppressed = new Uint8Array(candidates.length);
  for (let i = 0; i < candidates.length && kept.length < maxDet; i++) {
    if (suppressed[i]) continue;
    const a = candidates[i];
    kept.push(a);
    for (let j = i + 1; j < candidates.length; j++) {
      // per class, ultralytics offsets each class's boxes by class * 7680 px, so classes never overlap
      const rival = agnostic || candidates[j].cls === a.cls;
      if (!suppressed[j] && rival && iou(a.box, candidates[j].box) > iouThres) {
        suppressed[j] = 1;
      }
    }
  }
  return kept.map((d) => ({ ...d, box: scaleBox(d.box, geometry) }));
}

/** ultralytics' scale_boxes: remove the padding, undo each axis's own resize ratio, clip to the image. */
export function scaleBox(box, g) {
  const gainX = g.newW / g.width;
  const gainY = g.newH / g.height;
  const clip = (v, hi) => Math.min(Math.max(v, 0), hi);
  return [
    clip((box[0] - g.left) / gainX, g.width),
    clip((box[1] - g.top) / gainY, g.height),
    clip((box[2] - g.left) / gainX, g.width),
    clip((box[3] - g.top) / gainY, g.height),
  ];
}
