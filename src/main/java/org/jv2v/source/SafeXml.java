package org.jv2v.source;

import org.jv2v.BadInputException;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;
import org.xml.sax.SAXParseException;

import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * XML parsing for untrusted metadata (OVF, libvirt XML): no DTDs, no external entities, no
 * XInclude, so a crafted file can neither read local files nor blow up memory with entity expansion.
 */
public final class SafeXml {
    /** OVF descriptors are tens of KiB; libvirt domain XML a few KiB. */
    public static final long MAX_XML_BYTES = 16L << 20;

    private SafeXml() {}

    public static Document parse(Path file, byte[] bytes, boolean namespaceAware) {
        if (bytes.length > MAX_XML_BYTES) {
            throw BadInputException.inFile(file, "XML larger than " + MAX_XML_BYTES + " bytes");
        }
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setNamespaceAware(namespaceAware);
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            f.setFeature("http://xml.org/sax/features/external-general-entities", false);
            f.setFeature("http://xml.org/sax/features/external-parameter-entities", false);
            f.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
            f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            f.setXIncludeAware(false);
            f.setExpandEntityReferences(false);
            f.setAttribute(XMLConstants.ACCESS_EXTERNAL_DTD, "");
            f.setAttribute(XMLConstants.ACCESS_EXTERNAL_SCHEMA, "");
            DocumentBuilder b = f.newDocumentBuilder();
            b.setErrorHandler(null);
            return b.parse(new ByteArrayInputStream(bytes));
        } catch (SAXParseException e) {
            String msg = e.getMessage() == null ? "malformed XML" : e.getMessage();
            if (msg.contains("DOCTYPE")) {
                msg = "DOCTYPE declarations are refused (they could read local files or expand without bound)";
            }
            throw BadInputException.atLine(file, Math.max(e.getLineNumber(), 1), "invalid XML: " + msg);
        } catch (org.xml.sax.SAXException e) {
            throw BadInputException.inFile(file, "invalid XML: " + e.getMessage());
        } catch (ParserConfigurationException | IOException e) {
            throw new IllegalStateException("XML parser setup failed", e);
        }
    }

    /** Child elements of {@code parent} with local name {@code name} (any namespace). */
    public static List<Element> children(Node parent, String name) {
        List<Element> out = new ArrayList<>();
        NodeList nl = parent.getChildNodes();
        for (int i = 0; i < nl.getLength(); i++) {
            if (nl.item(i) instanceof Element e && localName(e).equals(name)) {
                out.add(e);
            }
        }
        return out;
    }

    public static List<Element> children(Node parent) {
        List<Element> out = new ArrayList<>();
        NodeList nl = parent.getChildNodes();
        for (int i = 0; i < nl.getLength(); i++) {
            if (nl.item(i) instanceof Element e) {
                out.add(e);
            }
        }
        return out;
    }

    public static Optional<Element> child(Node parent, String name) {
        List<Element> c = children(parent, name);
        return c.isEmpty() ? Optional.empty() : Optional.of(c.get(0));
    }

    /** Follows a path of child names. */
    public static Optional<Element> path(Node start, String... names) {
        Optional<Element> cur = start instanceof Element e ? Optional.of(e) : Optional.empty();
        Node n = start;
        for (String name : names) {
            cur = child(n, name);
            if (cur.isEmpty()) {
                return cur;
            }
            n = cur.get();
        }
        return cur;
    }

    public static Optional<String> text(Node start, String... names) {
        return path(start, names).map(e -> e.getTextContent().strip());
    }

    /** An attribute by local name (any namespace); empty when absent. */
    public static Optional<String> attr(Element e, String name) {
        if (e.hasAttribute(name)) {
            return Optional.of(e.getAttribute(name));
        }
        var attrs = e.getAttributes();
        for (int i = 0; i < attrs.getLength(); i++) {
            Node a = attrs.item(i);
            String ln = a.getLocalName() != null ? a.getLocalName() : a.getNodeName();
            int colon = ln.indexOf(':');
            if ((colon >= 0 ? ln.substring(colon + 1) : ln).equals(name)) {
                return Optional.of(a.getNodeValue());
            }
        }
        return Optional.empty();
    }

    public static String localName(Node n) {
        String ln = n.getLocalName();
        if (ln == null) {
            ln = n.getNodeName();
            int colon = ln.indexOf(':');
            if (colon >= 0) {
                ln = ln.substring(colon + 1);
            }
        }
        return ln;
    }
}
