import { describeImagesAcrossRestarts } from "./images-across-restarts-suite.js";

await describeImagesAcrossRestarts("fs");
