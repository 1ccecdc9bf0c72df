package dev.halfbisect.trt.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.common.collect.ImmutableList;
import java.io.IOException;

/**
 * Parses the JSON of {@code IEngineInspector.getEngineInformation(kJSON)} (or one layer's {@code
 * getLayerInformation}) built with {@code ProfilingVerbosity.kDETAILED}: an object with a {@code
 * Layers} array of layer objects, or a single layer object. With less verbosity layers are bare
 * name strings; they parse with no formats.
 */
public final class InspectorJson {
  private static final ObjectMapper JSON = new ObjectMapper();

  private InspectorJson() {}

  /**
   * The layers described by {@code json}.
   *
   * @throws IllegalArgumentException when the text is not inspector JSON
   */
  public static ImmutableList<EngineLayer> parse(String json) {
    JsonNode root;
    try {
      root = JSON.readTree(json);
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "engine inspector output is not valid JSON: " + e.getMessage(), e);
    }
    ImmutableList.Builder<EngineLayer> out = ImmutableList.builder();
    if (root != null && root.has("Layers")) {
      JsonNode layers = root.get("Layers");
      if (!layers.isArray()) {
        throw new IllegalArgumentException("engine inspector JSON: 'Layers' is not an array");
      }
      for (JsonNode l : layers) {
        out.add(layer(l));
      }
    } else if (root != null && root.has("Name")) {
      out.add(layer(root));
    } else {
      throw new IllegalArgumentException(
          "engine inspector JSON has neither 'Layers' nor 'Name': "
              + (json.length() > 200 ? json.substring(0, 200) + "..." : json));
    }
    return out.build();
  }

  private static EngineLayer layer(JsonNode l) {
    if (l.isTextual()) {
      return new EngineLayer(l.asText(), "", "", ImmutableList.of(), ImmutableList.of());
    }
    return new EngineLayer(
        l.path("Name").asText(""),
        l.path("LayerType").asText(""),
        l.path("Metadata").asText(""),
        formats(l.path("Inputs")),
        formats(l.path("Outputs")));
  }

  private static ImmutableList<String> formats(JsonNode tensors) {
    ImmutableList.Builder<String> b = ImmutableList.builder();
    if (tensors.isArray()) {
      for (JsonNode t : tensors) {
        String f = t.path("Format/Datatype").asText("");
        if (!f.isEmpty()) {
          b.add(f);
        }
      }
    }
    return b.build();
  }
}
