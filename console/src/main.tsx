import { render } from "preact";
import { App } from "./App";
import { keepSessionFresh } from "./session";
import "./styles.css";

keepSessionFresh();
render(<App />, document.getElementById("app")!);
