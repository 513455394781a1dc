using System.Collections.ObjectModel;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;

namespace FleetTwin.Console.Tests;

/// <summary>
/// Debian's chromium, headless, driven through Debian's chromedriver at the path given here (so Selenium Manager never
/// looks for, or downloads, a driver or a browser), with a fresh profile per browser and nothing that phones home.
/// Without them the test is skipped locally, and fails when FLEETTWIN_REQUIRE_TOOLS=1 (set by .ci/run, which installs
/// them). The browser's console log is read after every page: an error there fails the test.
/// </summary>
public sealed class Browser : IDisposable
{
    public const string Chromium = "/usr/bin/chromium";
    public const string ChromeDriver = "/usr/bin/chromedriver";

    private readonly string _profile;

    public ChromeDriver Driver { get; }

    private Browser()
    {
        _profile = Path.Combine(Path.GetTempPath(), "fleettwin-chromium-" + Guid.NewGuid().ToString("N")[..8]);
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(ChromeDriver)!, Path.GetFileName(ChromeDriver));
        service.HideCommandPromptWindow = true;
        service.SuppressInitialDiagnosticInformation = true;
        var options = new ChromeOptions { BinaryLocation = Chromium };
        options.AddArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
            "--window-size=1400,1000", "--user-data-dir=" + _profile);
        options.SetLoggingPreference(LogType.Browser, LogLevel.All);
        Driver = new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
        Driver.Manage().Timeouts().PageLoad = TimeSpan.FromSeconds(30);
        Driver.Manage().Timeouts().AsynchronousJavaScript = TimeSpan.FromSeconds(30);
    }

    /// <summary>A browser, or a skip (a failure under FLEETTWIN_REQUIRE_TOOLS=1) when chromium or its driver is missing.</summary>
    public static Browser Start()
    {
        foreach (var tool in new[] { Chromium, ChromeDriver })
        {
            if (File.Exists(tool))
                continue;
            if (Environment.GetEnvironmentVariable("FLEETTWIN_REQUIRE_TOOLS") == "1")
                throw new InvalidOperationException($"FLEETTWIN_REQUIRE_TOOLS=1 but {tool} is missing (Debian packages chromium, chromium-driver)");
            Skip.If(true, $"{tool} is not installed (Debian packages chromium, chromium-driver)");
        }
        return new Browser();
    }

    /// <summary>Waits (bounded) until <paramref name="condition"/> holds; fails with <paramref name="what"/> otherwise.</summary>
    public T Until<T>(Func<IWebDriver, T> condition, TimeSpan timeout, string what)
    {
        var wait = new WebDriverWait(Driver, timeout) { PollingInterval = TimeSpan.FromMilliseconds(50) };
        wait.IgnoreExceptionTypes(typeof(NoSuchElementException), typeof(StaleElementReferenceException));
        try
        {
            return wait.Until(condition);
        }
        catch (WebDriverTimeoutException)
        {
            Screenshot("timeout");
            throw new Xunit.Sdk.XunitException($"not within {timeout.TotalSeconds:0.#} s: {what}\npage text:\n{Text()}\nbrowser log:\n{string.Join('\n', Log())}");
        }
    }

    public string Text() => Driver.FindElement(By.TagName("body")).Text;

    public object? Script(string script, params object[] arguments) => Driver.ExecuteScript(script, arguments);

    /// <summary>The browser's console entries since the last call.</summary>
    public IReadOnlyList<string> Log()
    {
        ReadOnlyCollection<LogEntry> entries = Driver.Manage().Logs.GetLog(LogType.Browser);
        return [.. entries.Select(e => $"{e.Level}: {e.Message}")];
    }

    /// <summary>Fails when the browser logged an error (a failed request, an exception in the page) since the last call.</summary>
    public void AssertNoConsoleErrors(string page)
    {
        var errors = Log().Where(l => l.StartsWith("Severe", StringComparison.OrdinalIgnoreCase) || l.StartsWith("Error", StringComparison.OrdinalIgnoreCase)).ToList();
        Assert.True(errors.Count == 0, $"the browser logged errors on the {page} page:\n{string.Join('\n', errors)}");
    }

    /// <summary>Writes a screenshot to TestResults/screenshots/NAME.png under the test output directory and returns its path.</summary>
    public string Screenshot(string name)
    {
        var directory = Path.Combine(AppContext.BaseDirectory, "TestResults", "screenshots");
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, name + ".png");
        Driver.GetScreenshot().SaveAsFile(path);
        System.Console.WriteLine($"screenshot: {path}");
        return path;
    }

    public void Dispose()
    {
        Driver.Quit();
        Driver.Dispose();
        try
        {
            Directory.Delete(_profile, recursive: true);
        }
        catch (IOException)
        {
            // chromium may still be writing its profile as it exits; the temp directory is the system's to clean
        }
    }
}
