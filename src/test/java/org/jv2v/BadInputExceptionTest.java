package org.jv2v;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** Messages stay on one line whatever names from the input they quote. */
class BadInputExceptionTest {
    @Test
    void controlCharactersFromTheInputAreEscaped() {
        BadInputException e = BadInputException.of("disk.img: directory a\nb\r\u001b[2J: first cluster 9 past the end");
        assertThat(e.getMessage()).isEqualTo("disk.img: directory a\\nb\\r\\x1b[2J: first cluster 9 past the end");
        assertThat(BadInputException.atOffset(Path.of("x.img"), "name", 0x10, "bad \u007f\t").getMessage())
                .isEqualTo("x.img: name at offset 0x10: bad \\x7f\\t");
    }

    @Test
    void ordinaryMessagesAreUnchanged() {
        String m = "disk.img: snow ☃ and ünïcode: 3 entries";
        assertThat(BadInputException.of(m).getMessage()).isSameAs(m);
    }
}
