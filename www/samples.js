// Sample photos shipped with the demo: public domain or CC0 (static/samples/SOURCES.md).

/** `{name, file, url}` of each sample photo. */
export const SAMPLES = [
  {
    name: "Astronaut",
    file: "astronaut.jpg",
    url: new URL("./static/samples/astronaut.jpg", import.meta.url),
  },
  { name: "Coffee", file: "coffee.jpg", url: new URL("./static/samples/coffee.jpg", import.meta.url) },
  { name: "Cat", file: "chelsea.jpg", url: new URL("./static/samples/chelsea.jpg", import.meta.url) },
  { name: "Rocket", file: "rocket.jpg", url: new URL("./static/samples/rocket.jpg", import.meta.url) },
];
