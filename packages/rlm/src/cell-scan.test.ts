import { describe, expect, it } from "vitest";
import { findCodeCell } from "./cell-scan.js";

const TAGS = ["js", "javascript"];

describe("findCodeCell", () => {
  it("finds the first js cell after prose", () => {
    expect(findCodeCell("Let me check.\n```js\nprint(1);\n```\nDone.", TAGS)).toEqual({
      prose: "Let me check.",
      code: "print(1);",
      closed: true,
      ignoredCells: 0,
    });
  });

  it("takes a longer fence, which may hold shorter ones", () => {
    const cell = findCodeCell("````javascript\nconst s = '```';\nprint(s);\n````", TAGS);
    expect(cell?.code).toBe("const s = '```';\nprint(s);");
  });

  it("an unclosed cell runs to the end of the text", () => {
    expect(findCodeCell("```js\nprint(1);\nprint(2);", TAGS)).toMatchObject({ code: "print(1);\nprint(2);", closed: false });
  });

  it("an opener may follow prose on the same line", () => {
    expect(findCodeCell("Here: ```js\nsubmit(1);\n```", TAGS)).toMatchObject({ prose: "Here:", code: "submit(1);" });
  });

  it("other languages are prose, and their bodies are not searched", () => {
    const text = "```python\n```js\nnot this\n```\n\n```JS\nprint('this');\n```\n```js\nprint('ignored');\n```";
    expect(findCodeCell(text, TAGS)).toMatchObject({ code: "print('this');", ignoredCells: 1 });
  });

  it("no cell in plain prose", () => {
    expect(findCodeCell("Just an answer, with `inline code`.", TAGS)).toBeUndefined();
  });
});
