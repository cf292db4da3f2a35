package io.jembed.nn;

import java.math.BigDecimal;

/** Python's {@code repr(float)}, which module reprs print: {@code 1.0}, {@code 0.5}, {@code 1e-05}, {@code 1e+16}. */
final class PythonFloat {
    private PythonFloat() {}

    static String repr(double x) {
        if (Double.isNaN(x)) {
            return "nan";
        }
        if (Double.isInfinite(x)) {
            return x > 0 ? "inf" : "-inf";
        }
        if (x == 0) {
            return 1 / x < 0 ? "-0.0" : "0.0";
        }
        BigDecimal shortest = new BigDecimal(Double.toString(x)).stripTrailingZeros();
        String digits = shortest.unscaledValue().abs().toString();
        int pointPosition = digits.length() - shortest.scale();
        String sign = x < 0 ? "-" : "";
        if (pointPosition > -4 && pointPosition <= 16) {
            String plain = shortest.abs().toPlainString();
            return sign + (plain.contains(".") ? plain : plain + ".0");
        }
        int exponent = pointPosition - 1;
        String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
        String exponentDigits = Integer.toString(Math.abs(exponent));
        return sign + mantissa + "e" + (exponent < 0 ? "-" : "+")
                + (exponentDigits.length() < 2 ? "0" + exponentDigits : exponentDigits);
    }
}
