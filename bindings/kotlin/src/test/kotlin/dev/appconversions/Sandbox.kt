package dev.appconversions

import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.util.concurrent.TimeUnit
import kotlinx.serialization.json.Json
import kotlinx.serialization.json.JsonArray
import kotlinx.serialization.json.JsonElement
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.JsonPrimitive
import kotlinx.serialization.json.jsonArray
import kotlinx.serialization.json.jsonObject

/**
 * The sandbox endpoint, run as a child process on a free loopback port. Its binary comes from
 * the `appconversions.sandbox` system property, which the Maven build sets.
 */
class Sandbox : AutoCloseable {
    private val process: Process
    private val http = HttpClient.newHttpClient()

    /** Base URL, such as `http://127.0.0.1:41234`. */
    val baseUrl: String

    init {
        val binary = System.getProperty("appconversions.sandbox")
            ?: error("system property appconversions.sandbox is not set (run the tests through Maven)")
        process = ProcessBuilder(
            binary, "--port", "0", "--token", TOKEN, "--ad-account", AD_ACCOUNT,
            "--custom-event", CUSTOM_EVENT,
        ).redirectError(ProcessBuilder.Redirect.INHERIT).start()
        val line = process.inputStream.bufferedReader().readLine()
            ?: error("the sandbox exited with ${process.waitFor()} before listening")
        baseUrl = line.substringAfter("sandbox listening on ").trim()
    }

    /** Events the sandbox accepted, in order, as wire JSON. */
    fun accepted(): List<JsonObject> =
        Json.parseToJsonElement(get("accepted")).jsonArray.map { it.jsonObject }

    /** Accepted events named [name]. */
    fun accepted(name: String): List<JsonObject> = accepted().filter { it.string("event_name") == name }

    /** Forgets accepted events, recorded requests and queued faults. */
    fun reset() {
        post("reset", "")
    }

    /** Queues a fault, given as the sandbox's JSON fault object. */
    fun fault(json: String) {
        post("faults", json)
    }

    private fun get(endpoint: String): String = send(HttpRequest.newBuilder(control(endpoint)).GET())

    private fun post(endpoint: String, body: String): String =
        send(HttpRequest.newBuilder(control(endpoint)).POST(HttpRequest.BodyPublishers.ofString(body)))

    private fun control(endpoint: String) = URI.create("$baseUrl/_sandbox/$endpoint")

    private fun send(request: HttpRequest.Builder): String {
        val response = http.send(request.build(), HttpResponse.BodyHandlers.ofString())
        check(response.statusCode() == 200) { "sandbox answered ${response.statusCode()}: ${response.body()}" }
        return response.body()
    }

    override fun close() {
        process.destroy()
        if (!process.waitFor(5, TimeUnit.SECONDS)) process.destroyForcibly()
    }

    /** What the sandbox accepts. */
    companion object {
        /** The bearer token it accepts. */
        const val TOKEN = "kotlin-test-token"

        /** The ad account it accepts. */
        const val AD_ACCOUNT = "549768257474"

        /** An advertiser-defined event name registered at start. */
        const val CUSTOM_EVENT = "TookSurvey"
    }
}

/** The string at [path] (see [at]), or null. */
fun JsonObject.string(path: String): String? = (at(path) as? JsonPrimitive)?.content

/** The element at [path] (dot-separated keys and array indices), or null. */
fun JsonObject.at(path: String): JsonElement? =
    path.split('.').fold(this as JsonElement?) { element, key ->
        when (element) {
            is JsonObject -> element[key]
            is JsonArray -> key.toIntOrNull()?.let(element::getOrNull)
            else -> null
        }
    }

/** The strings in the array at [path] (dot-separated keys); empty when absent. */
fun JsonObject.strings(path: String): List<String> =
    (at(path) as? JsonArray)?.map { (it as JsonPrimitive).content }.orEmpty()
