package dev.ikd.core.text;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BrownCorpusTest {

    /** The first two sentences of text ca01, as the corpus holds them. */
    static final String CA01 = "\n\n\tThe/at Fulton/np-tl County/nn-tl Grand/jj-tl Jury/nn-tl said/vbd Friday/nr an/at "
        + "investigation/nn of/in Atlanta's/np$ recent/jj primary/nn election/nn produced/vbd ``/`` no/at evidence/nn ''/'' "
        + "that/cs any/dti irregularities/nns took/vbd place/nn ./.\n\n\n\tThe/at jury/nn further/rbr said/vbd in/in "
        + "term-end/nn presentments/nns that/cs the/at City/nn-tl Executive/jj-tl Committee/nn-tl ,/, which/wdt had/hvd "
        + "over-all/jj charge/nn of/in the/at election/nn ,/, (/( 1/2/cd )/) deserves/vbz praise/nn ./.\n";

    @Test
    void taggedTokensBecomePlainTextOneSentenceALine() {
        assertThat(BrownCorpus.plainText(CA01)).isEqualTo(
            "The Fulton County Grand Jury said Friday an investigation of Atlanta's recent primary election produced \"no "
                + "evidence\" that any irregularities took place.\n"
                + "The jury further said in term-end presentments that the City Executive Committee, which had over-all charge "
                + "of the election, (1/2) deserves praise.\n");
    }

    @Test
    void theTextsAreReadInTheOrderOfTheirNamesAndAFolderWithoutThemSaysHowToFetchThem(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("cb01"), "\tSecond/ap ./.\n");
        Files.writeString(dir.resolve("ca01"), CA01);
        Files.writeString(dir.resolve("README"), "not a text");
        assertThat(BrownCorpus.documents(dir)).hasSize(2).last().isEqualTo("Second.\n");
        assertThatThrownBy(() -> BrownCorpus.documents(dir.resolve("nothing-here")))
            .hasMessage("no Brown corpus at " + dir.resolve("nothing-here") + ": run scripts/fetch-data.sh brown");
        Path empty = Files.createDirectory(dir.resolve("empty"));
        assertThatThrownBy(() -> BrownCorpus.documents(empty)).hasMessageContaining("run scripts/fetch-data.sh brown");
    }
}
