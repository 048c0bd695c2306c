using System.Text;
using System.Xml;
using System.Xml.Linq;

namespace Flux2.Pipelines.Images;

/// <summary>
/// XMP (ISO 16684-1), the metadata JPEG and WebP files carry where PNG has text chunks: an <c>x:xmpmeta</c> element holding
/// one <c>rdf:Description</c> whose simple properties are the generation's entries. "Software" becomes the standard
/// <c>xmp:CreatorTool</c>; every other entry a property of the <see cref="Namespace"/> namespace under its own name
/// (<c>flux2:prompt</c>, <c>flux2:seed</c>, ...), so exiftool, Pillow's <c>getxmp()</c> or any XML reader finds them.
/// </summary>
public static class XmpPacket
{
    public static readonly XNamespace Namespace = "urn:flux2:generation:1.0#";
    public static readonly XNamespace Xmp = "http://ns.adobe.com/xap/1.0/";
    public static readonly XNamespace XmpNote = "http://ns.adobe.com/xmp/note/";
    private static readonly XNamespace Meta = "adobe:ns:meta/";
    private static readonly XNamespace Rdf = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";

    /// <summary>The XMP property each metadata entry becomes.</summary>
    public static IReadOnlyList<(XName Name, string Value)> Properties(IReadOnlyList<KeyValuePair<string, string>> entries) =>
        entries.Select(e => (e.Key == "Software" ? Xmp + "CreatorTool" : Namespace + XmlConvert.VerifyNCName(e.Key), e.Value)).ToArray();

    /// <summary>The properties as UTF-8 XML: an <c>x:xmpmeta</c> element, inside the <c>xpacket</c> processing instructions
    /// when <paramref name="wrapped"/> (a file's main packet; JPEG's extended XMP goes without them).</summary>
    public static byte[] Serialize(IReadOnlyList<(XName Name, string Value)> properties, bool wrapped)
    {
        var description = new XElement(Rdf + "Description", new XAttribute(Rdf + "about", ""));
        foreach (var ns in properties.Select(p => p.Name.Namespace).Distinct())
            description.Add(new XAttribute(XNamespace.Xmlns + Prefix(ns), ns.NamespaceName));
        foreach (var (name, value) in properties) description.Add(new XElement(name, XmlText(value)));
        var meta = new XElement(Meta + "xmpmeta", new XAttribute(XNamespace.Xmlns + "x", Meta.NamespaceName),
            new XElement(Rdf + "RDF", new XAttribute(XNamespace.Xmlns + "rdf", Rdf.NamespaceName), description));

        var settings = new XmlWriterSettings
        {
            OmitXmlDeclaration = true,
            Encoding = new UTF8Encoding(false),
            // Carriage returns in a prompt are written as character references, so a reader gets them back unchanged.
            NewLineHandling = NewLineHandling.Entitize,
        };
        using var output = new MemoryStream();
        using (var writer = XmlWriter.Create(output, settings))
        {
            // The packet wrapper's begin attribute is a byte-order mark, which tells readers the packet's encoding.
            if (wrapped) writer.WriteProcessingInstruction("xpacket", "begin=\"\uFEFF\" id=\"W5M0MpCehiHzreSzNTczkc9d\"");
            meta.WriteTo(writer);
            // "r": the packet has no padding to be edited in place.
            if (wrapped) writer.WriteProcessingInstruction("xpacket", "end=\"r\"");
        }
        return output.ToArray();
    }

    private static string Prefix(XNamespace ns) =>
        ns == Namespace ? "flux2" : ns == Xmp ? "xmp" : ns == XmpNote ? "xmpNote" : throw new ArgumentException($"no prefix for the XMP namespace {ns}");

    /// <summary>The index of the first character of <paramref name="value"/> at or after <paramref name="start"/> that XML
    /// cannot hold (C0 controls but tab, line feed and carriage return; unpaired surrogates; U+FFFE and U+FFFF), or -1.</summary>
    public static int IndexOfUnstorable(string value, int start = 0)
    {
        for (int i = start; i < value.Length; i++)
        {
            if (i + 1 < value.Length && XmlConvert.IsXmlSurrogatePair(value[i + 1], value[i])) i++;
            else if (!XmlConvert.IsXmlChar(value[i])) return i;
        }
        return -1;
    }

    /// <summary><paramref name="value"/> with each character XML cannot hold replaced by U+FFFD. Prompts with such
    /// characters are refused before a generation starts, so only a file name can bring one here.</summary>
    private static string XmlText(string value)
    {
        int bad = IndexOfUnstorable(value);
        if (bad < 0) return value;
        var text = new StringBuilder(value);
        for (; bad >= 0; bad = IndexOfUnstorable(value, bad + 1)) text[bad] = '\uFFFD';
        return text.ToString();
    }
}
