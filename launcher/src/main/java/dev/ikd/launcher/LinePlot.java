package dev.ikd.launcher;

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
import java.util.List;
import java.util.Locale;

import javax.imageio.ImageIO;

/** A small PNG line chart on log-log axes (Java2D, headless): what the benchmarks plot. */
final class LinePlot {

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

    static void write(Path file, String title, String xLabel, String yLabel, List<Series> series) {
        System.setProperty("java.awt.headless", "true");
        double xMin = Double.MAX_VALUE;
        double xMax = -Double.MAX_VALUE;
        double yMin = Double.MAX_VALUE;
        double yMax = -Double.MAX_VALUE;
        for (Series s : series) {
            for (int i = 0; i < s.x().length; i++) {
                xMin = Math.min(xMin, s.x()[i]);
                xMax = Math.max(xMax, s.x()[i]);
                yMin = Math.min(yMin, s.y()[i]);
                yMax = Math.max(yMax, s.y()[i]);
            }
        }
        double lx0 = Math.log10(xMin);
        double lx1 = Math.max(Math.log10(xMax), lx0 + 1e-9);
        double ly0 = Math.floor(Math.log10(yMin));
        double ly1 = Math.max(Math.ceil(Math.log10(yMax)), ly0 + 1);
        BufferedImage image = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, W, H);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        int plotW = W - LEFT - RIGHT;
        int plotH = H - TOP - BOTTOM;
        g.setColor(new Color(230, 230, 230));
        for (double d = ly0; d <= ly1 + 1e-9; d++) {
            int y = TOP + plotH - (int) Math.round((d - ly0) / (ly1 - ly0) * plotH);
            g.drawLine(LEFT, y, LEFT + plotW, y);
            g.setColor(Color.DARK_GRAY);
            double tick = Math.pow(10, d);
            String text = tick >= 1 ? String.format(Locale.ROOT, "%,.0f", tick) : String.format(Locale.ROOT, "%s", tick);
            g.drawString(text, LEFT - 8 - g.getFontMetrics().stringWidth(text), y + 4);
            g.setColor(new Color(230, 230, 230));
        }
        for (Series s : series) {
            for (double xv : s.x()) {
                int x = LEFT + (int) Math.round((Math.log10(xv) - lx0) / (lx1 - lx0) * plotW);
                g.setColor(new Color(230, 230, 230));
                g.drawLine(x, TOP, x, TOP + plotH);
                g.setColor(Color.DARK_GRAY);
                g.drawString(String.format(Locale.ROOT, "%.0f", xv), x - 5, TOP + plotH + 18);
            }
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
            int px = -1;
            int py = -1;
            for (int i = 0; i < s.x().length; i++) {
                int x = LEFT + (int) Math.round((Math.log10(s.x()[i]) - lx0) / (lx1 - lx0) * plotW);
                int y = TOP + plotH - (int) Math.round((Math.log10(s.y()[i]) - ly0) / (ly1 - ly0) * plotH);
                g.fillOval(x - 3, y - 3, 7, 7);
                if (px >= 0) {
                    g.drawLine(px, py, x, y);
                }
                px = x;
                py = y;
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
}
