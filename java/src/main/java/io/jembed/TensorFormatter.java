package io.jembed;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.List;

/**
 * PyTorch's {@code repr(tensor)} with default print options (torch/_tensor_str.py): precision 4, line width 80,
 * summarised with 3 edge items above 1000 elements. Floating tensors print in one of three modes chosen from their
 * non-zero finite values: integer mode ({@code 1.}), fixed ({@code 0.1235}) or scientific ({@code 1.2346e+08}).
 */
final class TensorFormatter {
    private static final int PRECISION = 4;
    private static final int LINE_WIDTH = 80;
    private static final int THRESHOLD = 1000;
    private static final int EDGE_ITEMS = 3;
    private static final String PREFIX = "tensor(";

    private final boolean floating;
    private boolean intMode = true;
    private boolean sciMode;
    private int maxWidth = 1;

    private TensorFormatter(Tensor tensor, List<Long> sampled) {
        floating = tensor.dtype().isFloatingPoint();
        if (!floating) {
            for (long flat : sampled) {
                maxWidth = Math.max(maxWidth, Long.toString(tensor.flatLong(flat)).length());
            }
            return;
        }
        List<Double> values = new ArrayList<>();
        for (long flat : sampled) {
            double v = tensor.flatDouble(flat);
            if (Double.isFinite(v) && v != 0) {
                values.add(v);
            }
        }
        if (values.isEmpty()) {
            return;
        }
        double min = Double.POSITIVE_INFINITY;
        double max = 0;
        for (double v : values) {
            min = Math.min(min, Math.abs(v));
            max = Math.max(max, Math.abs(v));
            if (v != Math.ceil(v)) {
                intMode = false;
            }
        }
        if (intMode) {
            sciMode = max / min > 1000.0 || max > 1.0e8;
            for (double v : values) {
                maxWidth = Math.max(maxWidth, sciMode ? scientific(v).length() : fixed(v, 0).length() + 1);
            }
        } else {
            sciMode = max / min > 1000.0 || max > 1.0e8 || min < 1.0e-4;
            for (double v : values) {
                maxWidth = Math.max(maxWidth, (sciMode ? scientific(v) : fixed(v, PRECISION)).length());
            }
        }
    }

    static String format(Tensor tensor) {
        long[] shape = tensor.shape();
        List<String> suffixes = new ArrayList<>();
        String body;
        if (tensor.numel() == 0) {
            if (shape.length != 1) {
                suffixes.add("size=" + shapeTuple(shape));
            }
            if (tensor.dtype() != DType.FLOAT32) {
                suffixes.add("dtype=" + tensor.dtype());
            }
            body = "[]";
        } else {
            boolean summarize = tensor.numel() > THRESHOLD;
            List<Long> sampled = new ArrayList<>();
            collect(shape, 0, 0, summarize, sampled);
            TensorFormatter formatter = new TensorFormatter(tensor, sampled);
            body = formatter.render(tensor, shape, 0, 0, PREFIX.length(), summarize);
            if (tensor.dtype() != DType.FLOAT32 && tensor.dtype() != DType.INT64) {
                suffixes.add("dtype=" + tensor.dtype());
            }
        }
        StringBuilder out = new StringBuilder(PREFIX).append(body);
        for (String suffix : suffixes) {
            out.append(", ").append(suffix);
        }
        return out.append(')').toString();
    }

    /** The flat positions that a summarised print shows (all of them when not summarising). */
    private static void collect(long[] shape, int dim, long base, boolean summarize, List<Long> into) {
        if (dim == shape.length) {
            into.add(base);
            return;
        }
        for (long i : shownIndices(shape[dim], summarize)) {
            collect(shape, dim + 1, base * shape[dim] + i, summarize, into);
        }
    }

    private static long[] shownIndices(long size, boolean summarize) {
        if (summarize && size > 2 * EDGE_ITEMS) {
            long[] shown = new long[2 * EDGE_ITEMS];
            for (int i = 0; i < EDGE_ITEMS; i++) {
                shown[i] = i;
                shown[EDGE_ITEMS + i] = size - EDGE_ITEMS + i;
            }
            return shown;
        }
        long[] all = new long[(int) size];
        for (int i = 0; i < all.length; i++) {
            all[i] = i;
        }
        return all;
    }

    private String render(Tensor tensor, long[] shape, int dim, long base, int indent, boolean summarize) {
        int remaining = shape.length - dim;
        if (remaining == 0) {
            return formatValue(tensor, base);
        }
        long size = shape[dim];
        boolean elided = summarize && size > 2 * EDGE_ITEMS;
        List<String> parts = new ArrayList<>();
        for (long i : shownIndices(size, summarize)) {
            if (elided && i == size - EDGE_ITEMS) {
                parts.add(remaining == 1 ? " ..." : "...");
            }
            parts.add(render(tensor, shape, dim + 1, base * size + i, indent + 1, summarize));
        }
        if (remaining > 1) {
            String separator = "," + "\n".repeat(remaining - 1) + " ".repeat(indent + 1);
            return "[" + String.join(separator, parts) + "]";
        }
        int perLine = Math.max(1, (LINE_WIDTH - indent) / (maxWidth + 2));
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < parts.size(); i += perLine) {
            lines.add(String.join(", ", parts.subList(i, Math.min(parts.size(), i + perLine))));
        }
        return "[" + String.join(",\n" + " ".repeat(indent + 1), lines) + "]";
    }

    private String formatValue(Tensor tensor, long flat) {
        String text;
        if (!floating) {
            text = Long.toString(tensor.flatLong(flat));
        } else {
            double v = tensor.flatDouble(flat);
            if (sciMode) {
                text = scientific(v);
            } else if (intMode) {
                text = fixed(v, 0);
                if (Double.isFinite(v)) {
                    text += ".";
                }
            } else {
                text = fixed(v, PRECISION);
            }
        }
        return " ".repeat(Math.max(0, maxWidth - text.length())) + text;
    }

    /** Python's {@code f"{v:.{digits}f}"}: the exact binary value rounded half-even. */
    private static String fixed(double v, int digits) {
        if (!Double.isFinite(v)) {
            return nonFinite(v);
        }
        String text = new BigDecimal(v).setScale(digits, RoundingMode.HALF_EVEN).toPlainString();
        return (v < 0 || (v == 0 && 1 / v < 0)) && !text.startsWith("-") ? "-" + text : text;
    }

    /** Python's {@code f"{v:.4e}"}, e.g. {@code 1.2346e+08}. */
    private static String scientific(double v) {
        if (!Double.isFinite(v)) {
            return nonFinite(v);
        }
        if (v == 0) {
            return (1 / v < 0 ? "-" : "") + "0." + "0".repeat(PRECISION) + "e+00";
        }
        BigDecimal rounded = new BigDecimal(v).round(new MathContext(PRECISION + 1, RoundingMode.HALF_EVEN));
        int exponent = rounded.precision() - rounded.scale() - 1;
        BigDecimal mantissa = rounded.movePointLeft(exponent).setScale(PRECISION, RoundingMode.UNNECESSARY);
        String sign = exponent < 0 ? "-" : "+";
        String digits = Integer.toString(Math.abs(exponent));
        return mantissa.toPlainString() + "e" + sign + (digits.length() < 2 ? "0" + digits : digits);
    }

    private static String nonFinite(double v) {
        return Double.isNaN(v) ? "nan" : v > 0 ? "inf" : "-inf";
    }

    private static String shapeTuple(long[] shape) {
        if (shape.length == 1) {
            return "(" + shape[0] + ",)";
        }
        StringBuilder out = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) {
            out.append(i == 0 ? "" : ", ").append(shape[i]);
        }
        return out.append(')').toString();
    }
}
