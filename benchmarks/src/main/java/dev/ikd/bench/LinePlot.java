package dev.ikd.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.DoubleUnaryOperator;

import javax.imageio.ImageIO;

/** A small PNG line chart (Java2D, headless), on log-log or linear axes: what the benchmarks plot. */
public final class LinePlot {

    /** One line: its label, points, colour and whether it is dashed. */
    record Series(String label, double[] x, double[] y, Color color, boolean dashed) {
    }

    private static final int W = 820;
    private static final int H = 520;
    private static final int LEFT = 90;
    private static final int RIGHT = 220;
    private static final int TOP = 50;
    private static final int BOTTOM = 60;

    private LinePlot() {
    }

    /** On log-log axes: a grid line at every decade of y and at every x a series has. */
    static void write(Path file, String title, String xLabel, String yLabel, List<Series> series) {
        draw(file, title, xLabel, yLabel, series, true);
    }

    /** On linear axes, with about five ticks on each; points that are not finite are left out. */
    static void writeLinear(Path file, String title, String xLabel, String yLabel, List<Series> series) {
        draw(file, title, xLabel, yLabel, series, false);
    }

    private static void draw(Path file, String title, String xLabel, String yLabel, List<Series> series, boolean log) {
        System.setProperty("java.awt.headless", "true");
        DoubleUnaryOperator scale = log ? Math::log10 : v -> v;
        double xMin = Double.MAX_VALUE;
        double xMax = -Double.MAX_VALUE;
        double yMin = Double.MAX_VALUE;
        double yMax = -Double.MAX_VALUE;
        for (Series s : series) {
            for (int i = 0; i < s.x().length; i++) {
                if (Double.isFinite(scale.applyAsDouble(s.x()[i])) && Double.isFinite(scale.applyAsDouble(s.y()[i]))) {
                    xMin = Math.min(xMin, s.x()[i]);
                    xMax = Math.max(xMax, s.x()[i]);
                    yMin = Math.min(yMin, s.y()[i]);
                    yMax = Math.max(yMax, s.y()[i]);
                }
            }
        }
        if (xMin > xMax) {
            xMin = yMin = log ? 1 : 0;
            xMax = yMax = log ? 10 : 1;
        }
        double x0 = scale.applyAsDouble(xMin);
        double x1 = Math.max(scale.applyAsDouble(xMax), x0 + 1e-9);
        double y0 = log ? Math.floor(Math.log10(yMin)) : yMin;
        double y1 = log ? Math.max(Math.ceil(Math.log10(yMax)), y0 + 1) : Math.max(yMax, yMin + 1e-12);
        List<Double> yTicks = log ? decades(y0, y1) : niceTicks(y0, y1);
        if (!log) {
            y0 = Math.min(y0, yTicks.get(0));
            y1 = Math.max(y1, yTicks.get(yTicks.size() - 1));
        }
        BufferedImage image = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, W, H);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        int plotW = W - LEFT - RIGHT;
        int plotH = H - TOP - BOTTOM;
        final double fx0 = x0;
        final double fx1 = x1;
        final double fy0 = y0;
        final double fy1 = y1;
        DoubleUnaryOperator px = v -> LEFT + Math.round((scale.applyAsDouble(v) - fx0) / (fx1 - fx0) * plotW);
        DoubleUnaryOperator py = v -> TOP + plotH - Math.round((scale.applyAsDouble(v) - fy0) / (fy1 - fy0) * plotH);
        for (double d : yTicks) {
            double value = log ? Math.pow(10, d) : d;
            int y = (int) py.applyAsDouble(value);
            g.setColor(new Color(230, 230, 230));
            g.drawLine(LEFT, y, LEFT + plotW, y);
            g.setColor(Color.DARK_GRAY);
            String text = label(value, log);
            g.drawString(text, LEFT - 8 - g.getFontMetrics().stringWidth(text), y + 4);
        }
        List<Double> xTicks = new ArrayList<>();
        if (log) {
            series.forEach(s -> {
                for (double v : s.x()) {
                    xTicks.add(v);
                }
            });
        } else {
            xTicks.addAll(niceTicks(xMin, xMax));
        }
        for (double xv : xTicks) {
            int x = (int) px.applyAsDouble(xv);
            if (x < LEFT || x > LEFT + plotW) {
                continue;
            }
            g.setColor(new Color(230, 230, 230));
            g.drawLine(x, TOP, x, TOP + plotH);
            g.setColor(Color.DARK_GRAY);
            g.drawString(label(xv, log), x - 5, TOP + plotH + 18);
        }
        g.setColor(Color.BLACK);
        g.drawRect(LEFT, TOP, plotW, plotH);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
        g.drawString(title, LEFT, 30);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        g.drawString(xLabel, LEFT + plotW / 2 - 40, H - 15);
        g.rotate(-Math.PI / 2);
        g.drawString(yLabel, -(TOP + plotH / 2 + g.getFontMetrics().stringWidth(yLabel) / 2), 18);
        g.rotate(Math.PI / 2);
        int legend = TOP + 10;
        for (Series s : series) {
            g.setColor(s.color());
            g.setStroke(s.dashed() ? new BasicStroke(2, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10, new float[] {6, 5}, 0)
                : new BasicStroke(2.5f));
            int lastX = -1;
            int lastY = -1;
            boolean dots = s.x().length <= 30;
            for (int i = 0; i < s.x().length; i++) {
                if (!Double.isFinite(scale.applyAsDouble(s.x()[i])) || !Double.isFinite(scale.applyAsDouble(s.y()[i]))) {
                    lastX = -1;
                    continue;
                }
                int x = (int) px.applyAsDouble(s.x()[i]);
                int y = (int) py.applyAsDouble(s.y()[i]);
                if (dots) {
                    g.fillOval(x - 3, y - 3, 7, 7);
                }
                if (lastX >= 0) {
                    g.drawLine(lastX, lastY, x, y);
                }
                lastX = x;
                lastY = y;
            }
            g.drawLine(LEFT + plotW + 15, legend, LEFT + plotW + 45, legend);
            g.setColor(Color.BLACK);
            g.drawString(s.label(), LEFT + plotW + 52, legend + 4);
            legend += 22;
        }
        g.dispose();
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            ImageIO.write(image, "png", file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    private static List<Double> decades(double from, double to) {
        List<Double> ticks = new ArrayList<>();
        for (double d = from; d <= to + 1e-9; d++) {
            ticks.add(d);
        }
        return ticks;
    }

    /** About five round ticks covering [lo, hi]: steps of 1, 2 or 5 times a power of ten. */
    static List<Double> niceTicks(double lo, double hi) {
        double span = Math.max(hi - lo, Math.max(Math.abs(hi), 1) * 1e-9);
        double raw = span / 5;
        double magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
        double step = raw / magnitude >= 5 ? 5 * magnitude : raw / magnitude >= 2 ? 2 * magnitude : magnitude;
        List<Double> ticks = new ArrayList<>();
        for (double t = Math.floor(lo / step) * step; t <= hi + step * 1e-9 && ticks.size() < 50; t += step) {
            ticks.add(Math.abs(t) < step * 1e-9 ? 0.0 : t);
        }
        if (ticks.size() < 2) {
            ticks.add(ticks.get(0) + step);
        }
        return ticks;
    }

    private static String label(double v, boolean log) {
        if (log) {
            return v >= 1 ? String.format(Locale.ROOT, "%,.0f", v) : String.format(Locale.ROOT, "%s", v);
        }
        return v == Math.rint(v) && Math.abs(v) < 1e6 ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.3g", v);
    }
}
