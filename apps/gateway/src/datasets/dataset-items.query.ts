import * as XML_ED4 from 'xmlchars/xml/1.0/ed4';
import { z } from 'zod';
import { queryBoolean, queryInt, queryList } from '../http/api-query';

/** Every format Apify serves dataset items in. */
export const DATASET_ITEM_FORMATS = ['json', 'jsonl', 'csv', 'xlsx', 'xml', 'html', 'rss'] as const;
export type DatasetItemFormat = (typeof DATASET_ITEM_FORMATS)[number];

/**
 * XML element names as every parser reads them: those of XML 1.0's fourth edition (letters and
 * digits of the scripts Unicode 2.0 had), without `:` (a namespace prefix). The fifth edition
 * allows more (emoji, scripts added since), but expat (Python's `xml.etree`) and others refuse
 * a document with one of those (the new user's pass).
 */
const XML_NAME_START = `${XML_ED4.LETTER}_`;
const XML_NAME_CHAR = `${XML_NAME_START}${XML_ED4.DIGIT}.\\-${XML_ED4.COMBINING_CHAR}${XML_ED4.EXTENDER}`;
const XML_NAME = new RegExp(`^[${XML_NAME_START}][${XML_NAME_CHAR}]*$`);
const NOT_XML_NAME_CHAR = new RegExp(`[^${XML_NAME_CHAR}]`, 'gu');

/** A key made an XML element name: others' characters become `_`, and so does a start no name may have (`1st` → `_1st`). */
export function toXmlName(key: string): string {
  const name = key.replace(NOT_XML_NAME_CHAR, '_');
  return XML_NAME.test(name) ? name : `_${name}`;
}

/** An XML element name (no namespace prefix), as `xmlRoot` and `xmlRow` must be. */
const xmlName = z.string().max(100).regex(XML_NAME, 'must be an XML element name');

const fieldList = queryList.refine((list) => list.length <= 100 && list.every((f) => f.length <= 200), {
  message: 'at most 100 field names of at most 200 characters',
});

/**
 * `GET /v2/datasets/:id/items`'s query, as Apify's API documents it (`dataset_items_get`).
 * Parameters of Apify's that Atrium does not implement are refused by name rather than ignored,
 * so that a client never receives data it did not ask for.
 */
/** A delimiter that breaks CSV: `"`, a line break, a C0 control character but tab, DEL, U+0085, U+2028, U+2029 or a byte order mark. */
function breaksCsv(c: number): boolean {
  return (
    c === 0x22 ||
    (c < 0x20 && c !== 0x09) ||
    c === 0x7f ||
    c === 0x85 ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0xfeff
  );
}

export const datasetItemsQuery = z
  .object({
    format: z.enum(DATASET_ITEM_FORMATS).default('json'),
    offset: queryInt(0, 1_000_000_000).optional(),
    /** `0` is no limit, as apify-client sends it. */
    limit: queryInt(0).optional(),
    desc: queryBoolean.optional(),
    fields: fieldList.optional(),
    omit: fieldList.optional(),
    unwind: fieldList.optional(),
    flatten: fieldList.optional(),
    clean: queryBoolean.optional(),
    skipEmpty: queryBoolean.optional(),
    skipHidden: queryBoolean.optional(),
    bom: queryBoolean.optional(),
    attachment: queryBoolean.optional(),
    skipHeaderRow: queryBoolean.optional(),
    delimiter: z
      .string()
      .superRefine((v, ctx) => {
        const problem =
          [...v].length !== 1
            ? 'must be one character'
            : breaksCsv(v.codePointAt(0)!)
              ? 'must not be a double quote, a line break, a byte order mark or a C0 control character other than tab (the CSV would not read back)'
              : undefined;
        if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
      })
      .openapi({
        description:
          'One character (one code point; default `,`, `%09` for tab): not `"`, a line break, a C0 control character but tab, DEL, U+0085, U+2028, U+2029 or a byte order mark',
      })
      .optional(),
    xmlRoot: xmlName.optional(),
    xmlRow: xmlName.optional(),
    feedTitle: z.string().max(1000).optional(),
    feedDescription: z.string().max(1000).optional(),
    view: z.never({ message: 'dataset views need a dataset schema, which Atrium does not keep' }).optional(),
    outputFields: z.never({ message: 'is not supported by Atrium' }).optional(),
    simplified: z.never({ message: 'is not supported by Atrium (a legacy Apify Crawler option)' }).optional(),
    skipFailedPages: z
      .never({ message: 'is not supported by Atrium (a legacy Apify Crawler option)' })
      .optional(),
  })
  .transform((q) => ({
    ...q,
    skipHidden: q.clean || q.skipHidden || false,
    skipEmpty: q.clean || q.skipEmpty || false,
  }));
export type DatasetItemsQuery = z.output<typeof datasetItemsQuery>;
