package dev.ikd.core.data;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import javax.imageio.ImageIO;

/** Image folders for tests: three classes of patterns, written as PNG (and JPEG) files. */
public final class TestImages {

    private TestImages() {
    }

    /** Stripes across, stripes down, or a checkerboard, with noise: three classes a small network can tell apart. */
    public static Path patterns(Path root, int perClass, long seed, boolean colour) throws Exception {
        Random random = new Random(seed);
        String[] classes = {"checker", "horizontal", "vertical"};
        for (int c = 0; c < classes.length; c++) {
            Path folder = Files.createDirectories(root.resolve(classes[c]));
            for (int i = 0; i < perClass; i++) {
                int side = 12 + 4 * (i % 2);
                boolean jpeg = colour && i % 3 == 0;
                BufferedImage image = new BufferedImage(side, side, colour ? BufferedImage.TYPE_INT_RGB : BufferedImage.TYPE_BYTE_GRAY);
                for (int y = 0; y < side; y++) {
                    for (int x = 0; x < side; x++) {
                        boolean on = switch (c) {
                            case 0 -> ((x / 4) + (y / 4)) % 2 == 0;
                            case 1 -> (y / 4) % 2 == 0;
                            default -> (x / 4) % 2 == 0;
                        };
                        int v = Math.max(0, Math.min(255, (on ? 200 : 50) + (int) (40 * random.nextGaussian())));
                        image.getRaster().setSample(x, y, 0, v);
                        if (colour) {
                            image.getRaster().setSample(x, y, 1, v / 2);
                            image.getRaster().setSample(x, y, 2, 255 - v);
                        }
                    }
                }
                ImageIO.write(image, jpeg ? "jpg" : "png", folder.resolve(String.format("%03d.%s", i, jpeg ? "jpg" : "png")).toFile());
            }
        }
        return root;
    }
}
