#pragma once
// `revup --soak SECONDS --soak-report FILE IMAGE`: the GUI trains on IMAGE
// for SECONDS with the memory and reconstruction panels both showing (the
// reconstruction dock floats beside the window), while an EventLoopWatchdog
// times the event loop; tests/ui/soak.sh pans and zooms the image with
// xdotool meanwhile and samples the process's RSS. At the end the report
// (JSON) gives the event loop's lateness, the input events received and the
// epochs trained, and the application quits: 0 when training ran the whole
// time, 1 when it stopped early or the report could not be written.
#include <QString>

namespace revup::ui {

class MainWindow;

// Starts the session; false (with the reason on stderr) when training
// cannot start.
bool startSoak(MainWindow& window, int seconds, const QString& reportPath);

}  // namespace revup::ui
