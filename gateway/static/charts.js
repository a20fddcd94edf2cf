// Time-series charts drawn on a canvas: a line over the last minutes, its area shaded, with a
// value scale rounded to 1, 2 or 5 times a power of ten and a time scale ending at "now" (in
// quarter minutes over one minute, in minutes over more).

const MARGIN = { left: 48, right: 12, top: 12, bottom: 24 };
const GRID_LINES = 4;
const AXIS_COLOR = "#6b7280";
const GRID_COLOR = "#e5e7eb";
const FONT = "11px system-ui, sans-serif";
const MINUTE_MS = 60 * 1000;
const QUARTER_MINUTE_MS = MINUTE_MS / 4;

function timeLabel(agoMs) {
  if (agoMs === 0) {
    return "now";
  }
  return agoMs < MINUTE_MS ? `-${agoMs / 1000} s` : `-${agoMs / MINUTE_MS} min`;
}

function roundedCeiling(value) {
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) {
    if (step * magnitude >= value) {
      return step * magnitude;
    }
  }
  return 10 * magnitude;
}

function sizedContext(canvas) {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  const context = canvas.getContext("2d");
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  context.clearRect(0, 0, width, height);
  context.font = FONT;
  return { context, width, height };
}

function drawScales(context, plot, top, windowMs, formatValue) {
  context.strokeStyle = GRID_COLOR;
  context.fillStyle = AXIS_COLOR;
  context.lineWidth = 1;
  context.textAlign = "right";
  context.textBaseline = "middle";
  for (let line = 0; line <= GRID_LINES; line += 1) {
    const y = plot.bottom - (plot.height * line) / GRID_LINES;
    context.beginPath();
    context.moveTo(plot.left, Math.round(y) + 0.5);
    context.lineTo(plot.right, Math.round(y) + 0.5);
    context.stroke();
    context.fillText(formatValue((top * line) / GRID_LINES), plot.left - 6, y);
  }
  context.textAlign = "center";
  context.textBaseline = "top";
  const stepMs = windowMs > MINUTE_MS ? MINUTE_MS : QUARTER_MINUTE_MS;
  for (let agoMs = 0; agoMs <= windowMs; agoMs += stepMs) {
    context.fillText(timeLabel(agoMs), plot.right - (plot.width * agoMs) / windowMs, plot.bottom + 6);
  }
}

export function drawTimeSeries(canvas, points, { nowMs, windowMs, color, formatValue }) {
  const { context, width, height } = sizedContext(canvas);
  const plot = {
    left: MARGIN.left,
    right: width - MARGIN.right,
    top: MARGIN.top,
    bottom: height - MARGIN.bottom,
  };
  plot.width = plot.right - plot.left;
  plot.height = plot.bottom - plot.top;
  const top = roundedCeiling(Math.max(1, ...points.map((point) => point.value)));
  drawScales(context, plot, top, windowMs, formatValue);
  if (points.length === 0) {
    return;
  }
  const xOf = (atMs) => plot.left + plot.width * (1 - (nowMs - atMs) / windowMs);
  const yOf = (value) => plot.bottom - (plot.height * value) / top;
  context.beginPath();
  points.forEach((point, index) => {
    const x = Math.max(plot.left, xOf(point.atMs));
    if (index === 0) {
      context.moveTo(x, yOf(point.value));
    } else {
      context.lineTo(x, yOf(point.value));
    }
  });
  context.strokeStyle = color;
  context.lineWidth = 2;
  context.lineJoin = "round";
  context.stroke();
  context.lineTo(Math.max(plot.left, xOf(points.at(-1).atMs)), plot.bottom);
  context.lineTo(Math.max(plot.left, xOf(points[0].atMs)), plot.bottom);
  context.closePath();
  context.globalAlpha = 0.15;
  context.fillStyle = color;
  context.fill();
  context.globalAlpha = 1;
}
