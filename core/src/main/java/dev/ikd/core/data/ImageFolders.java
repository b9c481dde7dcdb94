package dev.ikd.core.data;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.IntFunction;
import java.util.stream.Stream;

import javax.imageio.ImageIO;

/**
 * An image folder as a data set: one subfolder per class (sorted names are the classes), PNG or
 * JPEG files in each, every image resampled to one size by area averaging (each new pixel is the
 * mean of the old pixels it covers, the same on every machine) and scaled to 0..1, channels first.
 * Grey images give one channel, colour ones three; {@code channels} forces either. The same seeded
 * 20% as the other one-file data sets is held out as the test set.
 */
public final class ImageFolders {

    /** The load option for the side (or WIDTHxHEIGHT) every image is resampled to. */
    public static final String SIZE = "image-size";
    /** The load option for the channels: 1 (grey), 3 (RGB) or auto. */
    public static final String CHANNELS = "image-channels";
    /** The side images are resampled to unless {@link #SIZE} says otherwise. */
    public static final String DEFAULT_SIZE = "28";
    static final Set<String> OPTIONS = Set.of(SIZE, CHANNELS, Limits.IMAGE_PIXELS);
    private static final Set<String> EXTENSIONS = Set.of("png", "jpg", "jpeg");

    /**
     * How to read a folder.
     *
     * @param width    pixels across
     * @param height   pixels down
     * @param channels 1, 3, or 0: 1 when every image is grey, 3 otherwise
     */
    public record Options(int width, int height, int channels, long maxPixels) {
        public Options(int width, int height, int channels) {
            this(width, height, channels, Limits.DEFAULT.imagePixels());
        }

        public Options {
            if (width < 1 || height < 1 || width > 4096 || height > 4096) {
                throw new IllegalArgumentException("--" + SIZE + " must be 1 to 4096 pixels a side, got " + width + "x" + height);
            }
            if (channels != 0 && channels != 1 && channels != 3) {
                throw new IllegalArgumentException("--" + CHANNELS + " must be 1, 3 or auto, got " + channels);
            }
        }

        /** From load options: {@code image-size} N or WxH (default 28), {@code image-channels} 1, 3 or auto. */
        public static Options of(Map<String, String> options) {
            String size = options.getOrDefault(SIZE, DEFAULT_SIZE).strip().toLowerCase(Locale.ROOT);
            String channels = options.getOrDefault(CHANNELS, "auto").strip().toLowerCase(Locale.ROOT);
            try {
                String[] wh = size.split("x", -1);
                int w = Integer.parseInt(wh[0]);
                int h = wh.length == 2 ? Integer.parseInt(wh[1]) : w;
                if (wh.length > 2) {
                    throw new NumberFormatException();
                }
                return new Options(w, h, channels.equals("auto") ? 0 : Integer.parseInt(channels), Limits.of(options).imagePixels());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--" + SIZE + " must be N or WIDTHxHEIGHT and --" + CHANNELS
                    + " 1, 3 or auto; got '" + size + "' and '" + channels + "'");
            }
        }
    }

    private ImageFolders() {
    }

    static Dataset read(Path dir, Options options, IntFunction<int[][]> testCut) {
        if (!Files.isDirectory(dir)) {
            throw new MissingDataException("image folder " + dir + " is not a directory (it should hold one folder per class)");
        }
        List<Path> classDirs;
        try (Stream<Path> s = Files.list(dir)) {
            classDirs = s.filter(Files::isDirectory).filter(p -> !p.getFileName().toString().startsWith(".")).sorted().toList();
        } catch (IOException e) {
            throw new MissingDataException("cannot list " + dir + ": " + e.getMessage(), e);
        }
        if (classDirs.size() < 2) {
            throw new MissingDataException("image folder " + dir + " has " + classDirs.size() + " class folder(s); it needs one "
                + "folder per class, at least two");
        }
        List<String> classNames = new ArrayList<>();
        List<Path> files = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        for (Path c : classDirs) {
            List<Path> images;
            try (Stream<Path> s = Files.list(c)) {
                images = s.filter(ImageFolders::isImage).sorted().toList();
            } catch (IOException e) {
                throw new MissingDataException("cannot list " + c + ": " + e.getMessage(), e);
            }
            if (images.isEmpty()) {
                throw new MissingDataException("class folder " + c + " holds no PNG or JPEG file");
            }
            for (Path f : images) {
                files.add(f);
                labels.add(classNames.size());
            }
            classNames.add(c.getFileName().toString());
        }
        // One image at a time, resampled as soon as it is decoded: a folder of large photos never sits in memory whole.
        int area = options.height() * options.width();
        List<float[]> resampled = new ArrayList<>(files.size());
        boolean allGrey = true;
        for (Path f : files) {
            BufferedImage image = decode(f, options.maxPixels());
            boolean grey = image.getColorModel().getNumColorComponents() == 1;
            allGrey &= grey;
            resampled.add(pixels(image, options.width(), options.height(), options.channels() != 0 ? options.channels() : grey ? 1 : 3));
        }
        int channels = options.channels() != 0 ? options.channels() : allGrey ? 1 : 3;
        int sample = channels * area;
        int[][] cut = testCut.apply(files.size());
        float[][] parts = new float[2][];
        int[][] partLabels = new int[2][];
        for (int part = 0; part < 2; part++) {
            int[] ids = cut[part];
            parts[part] = new float[ids.length * sample];
            partLabels[part] = new int[ids.length];
            for (int i = 0; i < ids.length; i++) {
                float[] pixels = resampled.get(ids[i]);
                // A grey image among colour ones: its one channel is each of red, green and blue (as reading it in RGB gives).
                for (int c = 0; c < channels; c++) {
                    System.arraycopy(pixels, pixels.length == sample ? c * area : 0, parts[part], i * sample + c * area, area);
                }
                partLabels[part][i] = labels.get(ids[i]);
            }
        }
        Map<String, String> resolved = new java.util.TreeMap<>(Map.of(SIZE, options.width() + "x" + options.height(),
            CHANNELS, Integer.toString(channels)));
        new Limits(Limits.DEFAULT.csvRows(), Limits.DEFAULT.csvColumns(), Limits.DEFAULT.csvCell(), options.maxPixels())
            .given(resolved, true);
        Dataset.Origin origin = new Dataset.Origin("images:" + dir, resolved, classNames);
        return new Dataset(dir.getFileName().toString(), new long[] {channels, options.height(), options.width()},
            classNames.size(), parts[0], partLabels[0], parts[1], partLabels[1], 0, null, origin);
    }

    /** One image file as the network sees it: resampled, 0..1, channels first. */
    public static float[] pixels(Path file, Options options) {
        BufferedImage image = decode(file, options.maxPixels());
        int channels = options.channels() != 0 ? options.channels() : image.getColorModel().getNumColorComponents() == 1 ? 1 : 3;
        return pixels(image, options.width(), options.height(), channels);
    }

    /** Whether {@code p} is a PNG or JPEG file (by its extension; hidden files are not). */
    public static boolean isImage(Path p) {
        String name = p.getFileName().toString().toLowerCase(Locale.ROOT);
        int dot = name.lastIndexOf('.');
        return Files.isRegularFile(p) && !name.startsWith(".") && dot > 0 && EXTENSIONS.contains(name.substring(dot + 1));
    }

    /** The image in {@code f}, refused before it is decoded when it has more than {@code maxPixels} pixels. */
    private static BufferedImage decode(Path f, long maxPixels) {
        try (var in = ImageIO.createImageInputStream(f.toFile())) {
            var readers = in == null ? null : ImageIO.getImageReaders(in);
            if (readers == null || !readers.hasNext()) {
                throw new MissingDataException(f + " is not a PNG or JPEG image this JVM can decode");
            }
            var reader = readers.next();
            try {
                reader.setInput(in, true, true);
                long pixels = (long) reader.getWidth(0) * reader.getHeight(0);
                if (pixels > maxPixels) {
                    throw Limits.past(f.toString(), reader.getWidth(0) + "x" + reader.getHeight(0) + " = " + pixels + " pixels",
                        Limits.IMAGE_PIXELS, maxPixels);
                }
            } finally {
                reader.dispose();
            }
        } catch (IOException e) {
            throw new MissingDataException("cannot read image " + f + ": " + e.getMessage(), e);
        }
        try {
            BufferedImage image = ImageIO.read(f.toFile());
            if (image == null) {
                throw new MissingDataException(f + " is not a PNG or JPEG image this JVM can decode");
            }
            return image;
        } catch (IOException e) {
            throw new MissingDataException("cannot read image " + f + ": " + e.getMessage(), e);
        }
    }

    /**
     * The image resampled to {@code w x h} by area averaging, each channel scaled to 0..1; grey is
     * the mean of red, green and blue when one channel is asked of a colour image.
     */
    static float[] pixels(BufferedImage image, int w, int h, int channels) {
        int sw = image.getWidth();
        int sh = image.getHeight();
        double[][] source = new double[channels][sw * sh];
        var model = image.getColorModel();
        if (model.getNumColorComponents() == 1 && !(model instanceof java.awt.image.IndexColorModel)) {
            // Grey samples as stored: getRGB would pass them through a gamma curve to sRGB.
            double max = (1 << model.getComponentSize(0)) - 1;
            var raster = image.getRaster();
            for (int y = 0; y < sh; y++) {
                for (int x = 0; x < sw; x++) {
                    double v = raster.getSample(x, y, 0) / max;
                    for (int c = 0; c < channels; c++) {
                        source[c][y * sw + x] = v;
                    }
                }
            }
        } else {
            rgb(image, source, channels);
        }
        Resample wx = Resample.of(sw, w);
        Resample wy = Resample.of(sh, h);
        float[] out = new float[channels * w * h];
        for (int c = 0; c < channels; c++) {
            // Rows first (sw -> w), then columns (sh -> h).
            double[] rows = new double[sh * w];
            for (int y = 0; y < sh; y++) {
                for (int x = 0; x < w; x++) {
                    double v = 0;
                    for (int j = 0; j < wx.weights[x].length; j++) {
                        v += wx.weights[x][j] * source[c][y * sw + wx.first[x] + j];
                    }
                    rows[y * w + x] = v;
                }
            }
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    double v = 0;
                    for (int j = 0; j < wy.weights[y].length; j++) {
                        v += wy.weights[y][j] * rows[(wy.first[y] + j) * w + x];
                    }
                    out[(c * h + y) * w + x] = (float) v;
                }
            }
        }
        return out;
    }

    /** Red, green and blue of a colour (or palette) image, 0..1; their mean when one channel is asked. */
    private static void rgb(BufferedImage image, double[][] source, int channels) {
        int sw = image.getWidth();
        int[] argb = image.getRGB(0, 0, sw, image.getHeight(), null, 0, sw);
        for (int i = 0; i < argb.length; i++) {
            int r = (argb[i] >> 16) & 0xff;
            int g = (argb[i] >> 8) & 0xff;
            int b = argb[i] & 0xff;
            if (channels == 1) {
                source[0][i] = (r + g + b) / 3.0 / 255.0;
            } else {
                source[0][i] = r / 255.0;
                source[1][i] = g / 255.0;
                source[2][i] = b / 255.0;
            }
        }
    }

    /** For each new pixel o: the first old pixel it covers, and the share of it each covered old pixel has (summing to 1). */
    private record Resample(int[] first, double[][] weights) {

        static Resample of(int from, int to) {
            int[] first = new int[to];
            double[][] weights = new double[to][];
            double scale = (double) from / to;
            for (int o = 0; o < to; o++) {
                double start = o * scale;
                double end = start + scale;
                first[o] = (int) Math.floor(start);
                int last = Math.min(from, (int) Math.ceil(end));
                weights[o] = new double[last - first[o]];
                for (int s = first[o]; s < last; s++) {
                    weights[o][s - first[o]] = (Math.min(end, s + 1) - Math.max(start, s)) / scale;
                }
            }
            return new Resample(first, weights);
        }
    }
}
